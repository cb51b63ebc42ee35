"""Money: integer minor units in storage, decimal currency units everywhere a person looks."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision

from bookwise.config import get_settings
from bookwise.errors import InvalidInput

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def currency_decimals(currency: str | None = None) -> int:
    """Number of decimals of the installation's (or the given) ISO 4217 currency."""
    return _precision(currency or get_settings().currency)


@lru_cache(maxsize=64)
def _precision(currency: str) -> int:
    # Babel looks the currency up in its locale data on every call: an import of a million
    # amounts asked a million times.
    return int(get_currency_precision(currency))


MAX_MINOR_UNITS = 2**63 - 1  # a BIGINT column


def to_minor_units(value: str | int | float | Decimal, *, field: str = "amount") -> int:
    """Parse an amount in currency units (``"1797.19"``, ``"1,797.19"``, 5000) to minor units."""
    decimals = currency_decimals()
    text = str(value).strip().replace("_", "")
    if "," in text:
        # Commas only as thousands separators ("1,797.19"); "1797,19" (a decimal comma)
        # would otherwise silently become a hundred times the amount.
        if not _THOUSANDS.match(text):
            raise InvalidInput(
                f"{field}: {value!r} is ambiguous; use '.' for decimals and ',' only "
                "between thousands (1,797.19)"
            )
        text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{field}: {value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise InvalidInput(f"{field}: {value!r} is not an amount of money")
    scaled = amount.scaleb(decimals)
    # Amounts are stored as 64-bit integers; checked before int(), which would build every
    # digit of 1e999999999 first.
    if scaled.adjusted() >= 19 or abs(scaled) > MAX_MINOR_UNITS:
        raise InvalidInput(f"{field}: {value!r} is too large an amount")
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            f"{field}: {value!r} has more than {decimals} decimals for {get_settings().currency}"
        )
    return int(scaled)


def from_minor_units(minor: int | None) -> Decimal | None:
    """Minor units to a Decimal in currency units with the currency's exact number of decimals."""
    if minor is None:
        return None
    decimals = currency_decimals()
    return Decimal(minor).scaleb(-decimals).quantize(Decimal(1).scaleb(-decimals))


def format_money(minor: int | None) -> str:
    """A decimal string such as ``"5000.00"`` (empty for no value)."""
    amount = from_minor_units(minor)
    return "" if amount is None else str(amount)
