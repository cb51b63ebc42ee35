"""Settings come from the BOOKWISE_<NAME> environment variables, as pydantic-settings read them
(bookwise reads them itself: importing pydantic-settings cost every command ~25 ms)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bookwise.config import Settings


def test_variables_are_read_whatever_their_case_and_converted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOOKWISE_WEB_WORKERS", "3")
    monkeypatch.setenv("bookwise_cookie_secure", "false")
    monkeypatch.setenv("Bookwise_Currency", "eur")
    monkeypatch.setenv("BOOKWISE_NOT_A_SETTING", "ignored")
    settings = Settings.from_environment()
    assert settings.web_workers == 3
    assert settings.cookie_secure is False
    assert settings.currency == "EUR"  # validated and normalised


def test_unset_variables_leave_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"BOOKWISE_{name.upper()}", raising=False)
    settings = Settings.from_environment()
    assert (settings.currency, settings.timezone, settings.web_workers) == ("USD", "UTC", None)


def test_a_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKWISE_WEB_WORKERS", "0")
    with pytest.raises(ValidationError, match="web_workers"):
        Settings.from_environment()
