"""init, python -m bookwise, error rendering, demo --if-empty, attributes and roles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bookwise import db
from bookwise.cli.runtime import describe_failure
from tests.cli.conftest import Cli, point_cli_at


def test_init_creates_the_database_and_commands_before_it_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    point_cli_at(monkeypatch, url)
    cli = Cli()
    try:
        line = cli.fails("users", "list")
        assert "is not initialised: run `bookwise init` first" in line
        assert "fresh.db" in line

        result = cli.ok("init")
        assert "database ready" in result.stdout
        assert "fresh.db" in result.stdout
        assert cli.json("users", "list") == {"items": [], "total": 0}
        cli.ok("init")  # upgrading a current database is a no-op
    finally:
        db.get_engine().dispose()


def test_python_dash_m_bookwise_runs_the_same_app(cli: Cli) -> None:
    env = {**os.environ, "BOOKWISE_DATABASE_URL": os.environ["BOOKWISE_DATABASE_URL"]}
    done = subprocess.run(
        [sys.executable, "-m", "bookwise", "users", "list", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"total": 0' in done.stdout


def test_an_unknown_csm_is_one_line_and_exit_1(cli: Cli) -> None:
    cli.account("A1")
    line = cli.fails("assign", "A1", "--to", "nobody@example.com")
    assert line == "error: no user with email nobody@example.com"
    assert cli.owners("A1") == []


def test_usage_errors_exit_2(cli: Cli) -> None:
    result = cli.run("accounts", "list", "--who", "somebody")
    assert result.exit_code == 2
    assert "somebody" in result.output


def test_integrity_errors_become_one_clear_line() -> None:
    exc = IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed: users.email_fold"))
    message = describe_failure(exc)
    assert message is not None
    assert "UNIQUE constraint failed: users.email_fold" in message
    assert "nothing was written" in message
    assert describe_failure(ValueError("a bug")) is None


def test_demo_if_empty_leaves_a_populated_database_alone(cli: Cli) -> None:
    cli.account("A1")
    result = cli.ok("demo", "--accounts", "10", "--if-empty")
    assert result.stdout.strip() == "demo data not loaded: the database already has 1 accounts"
    assert cli.count() == 1


def test_demo_generates_a_book(cli: Cli) -> None:
    pytest.importorskip("bookwise.demo.generator")
    result = cli.ok("demo", "--accounts", "60", "--seed", "7")
    assert "demo data loaded: 60 accounts" in result.stdout
    assert cli.count() == 60
    overview = cli.json("csms")
    assert overview["total"] > 0
    assert overview["team_accounts"] + overview["unassigned_accounts"] == 60


def test_recount_checks_and_repairs_the_overview_counters(cli: Cli) -> None:
    cli.csm("a@example.com")
    cli.account("A1", "--mrr", "10.00")
    cli.ok("assign", "A1", "--to", "a@example.com")
    assert cli.ok("recount").stdout.startswith("counters exact: 1 accounts, 1 books, 1 covered")
    with db.get_engine().begin() as conn:
        conn.execute(text("UPDATE book_counts SET accounts = 7"))

    checked = cli.run("recount", "--check")
    assert checked.exit_code == 1
    assert "counters off: 1 counters and 0 child counts differ" in checked.stdout
    assert cli.json("csms")["items"][0]["accounts"] == 7  # --check wrote nothing

    repaired = cli.ok("recount").stdout
    assert "(7, 1000) -> (1, 1000)" in repaired
    assert "counters repaired: 1 counters and 0 child counts differed" in repaired
    assert cli.json("csms")["items"][0]["accounts"] == 1
    assert cli.ok("recount", "--check").stdout.startswith("counters exact")


def parents(cli: Cli) -> list[str]:
    """External ids of the accounts ``is_parent`` matches."""
    listed = cli.json("accounts", "list", "--where", "is_parent")
    return sorted(item["external_id"] for item in listed["items"])


def test_recount_checks_and_repairs_child_counts(cli: Cli) -> None:
    cli.account("P1")
    cli.account("C1", "--parent", "P1")
    cli.account("C2", "--parent", "P1")
    assert parents(cli) == ["P1"]
    assert cli.ok("recount").stdout.endswith("child counts exact\n")
    with db.get_engine().begin() as conn:
        conn.execute(text("UPDATE accounts SET child_count = 5 WHERE external_id = 'P1'"))
        conn.execute(text("UPDATE accounts SET child_count = 1 WHERE external_id = 'C1'"))

    checked = cli.run("recount", "--check")
    assert checked.exit_code == 1
    assert "child_count 5, counted 2" in checked.stdout
    assert "counters off: 0 counters and 2 child counts differ" in checked.stdout
    assert parents(cli) == ["C1", "P1"]  # --check wrote nothing

    repaired = cli.ok("recount").stdout
    assert "counters repaired: 0 counters and 2 child counts differed" in repaired
    assert parents(cli) == ["P1"]
    assert cli.ok("recount", "--check").stdout.endswith("child counts exact\n")


def test_attributes_are_declared_listed_and_checked(cli: Cli) -> None:
    cli.ok("attributes", "add", "plan", "--type", "choice", "--choices", "Gold, Silver")
    cli.ok("attributes", "add", "arr_target", "--type", "money")
    listed = cli.json("attributes", "list")
    assert listed["total"] == 2
    assert [(a["name"], a["type"], a["choices"]) for a in listed["items"]] == [
        ("arr_target", "money", []),
        ("plan", "choice", ["Gold", "Silver"]),
    ]
    line = cli.fails("accounts", "add", "X", "--attr", "plan=bronze")
    assert "custom.plan" in line
    assert "Gold, Silver" in line
    cli.ok("accounts", "add", "Y", "--external-id", "Y", "--attr", "plan=gold")
    cli.ok("accounts", "add", "Z", "--external-id", "Z", "--attr", "arr_target=1,250.5")
    assert cli.json("accounts", "show", "Y")["custom"] == {"plan": "Gold"}
    assert cli.json("accounts", "show", "Z")["custom"] == {"arr_target": "1250.50"}
    assert cli.fails("attributes", "add", "plan", "--type", "text").endswith("already declared")


def test_roles_are_added_and_listed(cli: Cli) -> None:
    cli.ok("roles", "add", "account_manager", "--description", "Commercial owner")
    cli.ok("roles", "add", "onboarding", "--inheritable")
    listed = cli.json("roles", "list")
    assert [(r["name"], r["inheritable"]) for r in listed["items"]] == [
        ("account_manager", False),
        ("csm", True),
        ("onboarding", True),
    ]
    assert "already exists" in cli.fails("roles", "add", "csm")
    assert "must start with a letter" in cli.fails("roles", "add", "9lives")

    am = cli.csm("am@example.com")
    cli.account("A1")
    cli.ok("assign", "A1", "--to", am, "--role", "account_manager")
    assert cli.owners("A1", role="account_manager") == [am]
    assert cli.owners("A1") == []
    assert "no assignment role 'nope'" in cli.fails("assign", "A1", "--to", am, "--role", "nope")
