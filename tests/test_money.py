"""Money: minor units inside, the currency's exact decimals outside."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookwise.config import get_settings
from bookwise.errors import InvalidInput
from bookwise.money import currency_decimals, format_money, from_minor_units, to_minor_units


@pytest.mark.parametrize(
    ("text", "minor"),
    [("5000", 500000), ("1797.19", 179719), ("1,797.19", 179719), (" 0.5 ", 50), ("-3", -300)],
)
def test_parses_the_usual_forms(text: str, minor: int) -> None:
    assert to_minor_units(text) == minor


@pytest.mark.parametrize("text", ["abc", "1.001", "NaN", "Infinity", "", "1797,19", "1,79"])
def test_refuses_what_is_not_money(text: str) -> None:
    with pytest.raises(InvalidInput):
        to_minor_units(text)


def test_formats_with_the_currency_decimals() -> None:
    assert format_money(500000) == "5000.00"
    assert format_money(None) == ""
    assert from_minor_units(7) == Decimal("0.07")


def test_the_currency_fixes_the_decimals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKWISE_CURRENCY", "JPY")
    get_settings.cache_clear()
    try:
        assert currency_decimals() == 0
        assert to_minor_units("5000") == 5000
        assert format_money(5000) == "5000"
        with pytest.raises(InvalidInput, match="more than 0 decimals for JPY"):
            to_minor_units("1.5")
    finally:
        monkeypatch.delenv("BOOKWISE_CURRENCY")
        get_settings.cache_clear()


def test_unknown_currencies_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from bookwise.config import Settings

    with pytest.raises(ValidationError, match="unknown ISO 4217"):
        Settings(currency="XYZ")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_round_trip(minor: int) -> None:
    assert to_minor_units(format_money(minor)) == minor
