"""Every date option of the CLI takes ``today`` and ``yesterday`` beside ISO dates."""

from __future__ import annotations

from datetime import timedelta

from bookwise.dates import today
from tests.cli.conftest import Cli

ANN = "ann@example.com"


def test_history_on_today_and_yesterday(cli: Cli) -> None:
    cli.csm(ANN)
    cli.account("A1")
    cli.ok("assign", "A1", "--to", ANN)

    assert [h["user"] for h in cli.json("history", "A1", "--on", "today")["items"]] == [ANN]
    assert cli.json("history", "A1", "--on", "yesterday")["items"] == []
    book = cli.json("history", "--csm", ANN, "--on", "today")
    assert [h["external_id"] for h in book["items"]] == ["A1"]
    assert cli.json("history", "--csm", ANN, "--on", "yesterday")["items"] == []
    assert "showing 1–1" in cli.ok("history", "A1", "--on", "today").stdout
    assert "nothing matches" in cli.ok("history", "A1", "--on", "yesterday").stdout
    assert cli.fails("history", "A1", "--on", "tomorrow") == (
        "error: --on: 'tomorrow' is not a date (expected YYYY-MM-DD, today or yesterday)"
    )


def test_export_history_on_today(cli: Cli) -> None:
    cli.csm(ANN)
    cli.account("A1")
    cli.ok("assign", "A1", "--to", ANN)

    exported = cli.ok("export", "history", "A1", "--on", "today", "--output", "-").stdout
    assert ANN in exported
    yesterday = cli.ok("export", "history", "--csm", ANN, "--on", "yesterday", "--output", "-")
    assert ANN not in yesterday.stdout


def test_a_renewal_date_can_be_today(cli: Cli) -> None:
    cli.account("A1", "--renewal-date", "today")
    cli.account("A2", "--renewal-date", "yesterday")
    cli.account("A3", "--renewal-date", "2027-03-31")

    renewals = {a["external_id"]: a["renewal_date"] for a in cli.json("accounts", "list")["items"]}
    assert renewals == {
        "A1": today().isoformat(),
        "A2": (today() - timedelta(days=1)).isoformat(),
        "A3": "2027-03-31",
    }
    assert "today or yesterday" in cli.fails("accounts", "add", "X", "--renewal-date", "soon")
