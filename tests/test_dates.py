"""Dates people type: ISO dates, and ``today`` / ``yesterday`` in the installation's zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookwise.config import get_settings
from bookwise.dates import parse_date, today
from bookwise.errors import InvalidInput

# A day apart for most of every day: at 11:00 UTC it is already tomorrow in Kiritimati
# (UTC+14) and still yesterday on Baker Island (UTC-12).
ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"]


@pytest.fixture
def zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BOOKWISE_TIMEZONE", request.param)
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()


@pytest.mark.parametrize("zone", ZONES, indirect=True)
def test_today_and_yesterday_are_the_installations_days(zone: str) -> None:
    now = datetime.now(ZoneInfo(zone)).date()
    assert today() == now  # (the test could straddle midnight; it does so only rarely)
    assert parse_date("today") == now
    assert parse_date(" Today ") == now
    assert parse_date("YESTERDAY") == now - timedelta(days=1)


def test_iso_dates_are_kept_and_anything_else_names_the_choices() -> None:
    assert parse_date("2026-11-22") == date(2026, 11, 22)
    with pytest.raises(InvalidInput) as raised:
        parse_date("tomorrow", field="--on")
    assert raised.value.message == (
        "--on: 'tomorrow' is not a date (expected YYYY-MM-DD, today or yesterday)"
    )
