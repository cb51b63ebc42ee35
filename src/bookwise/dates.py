"""Dates in the installation's time zone; every stored time is UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bookwise.config import get_settings
from bookwise.errors import InvalidInput


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` ends in the installation's time zone, in UTC.

    "Owner on date D" means the owners at the end of D: rows started before this instant and
    not ended before it.
    """
    zone = get_settings().zone
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


DAYS_BACK = {"today": 0, "yesterday": 1}
"""The words a date option or parameter takes beside ``YYYY-MM-DD``, and how far back each is."""

DATE_FORMS = "YYYY-MM-DD, today or yesterday"
"""What :func:`parse_date` accepts, in the words its errors and help texts use."""


def parse_date(text: str, *, field: str = "date") -> date:
    """An ISO date (``2026-01-31``), or ``today``/``yesterday`` in the installation's zone.

    Raises ``InvalidInput`` naming ``field`` and the forms it takes.
    """
    word = text.strip()
    back = DAYS_BACK.get(word.casefold())
    if back is not None:
        return today() - timedelta(days=back)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (expected {DATE_FORMS})") from None


def today() -> date:
    """Today in the installation's time zone."""
    return datetime.now(get_settings().zone).date()
