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


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse an ISO date (``2026-01-31``) or say which field is wrong."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (expected YYYY-MM-DD)") from None


def today() -> date:
    """Today in the installation's time zone."""
    return datetime.now(get_settings().zone).date()
