"""users add / list / deactivate / activate / set-seat through the CLI."""

from __future__ import annotations

import csv
import io

from tests.cli.conftest import Cli


def test_users_are_added_and_listed_with_their_book_size(cli: Cli) -> None:
    cli.ok("users", "add", "Ann@Example.com", "--name", "Ann", "--role", "manager", "--csm-seat")
    cli.ok("users", "add", "viewer@example.com")
    cli.account("A1")
    cli.account("A2")
    cli.ok("assign", "A1", "A2", "--to", "ann@example.com")

    listed = cli.json("users", "list")
    assert listed["total"] == 2
    assert [
        (u["email"], u["name"], u["role"], u["csm_seat"], u["active"], u["accounts"])
        for u in listed["items"]
    ] == [
        ("Ann@example.com", "Ann", "manager", True, True, 2),
        ("viewer@example.com", "", "viewer", False, True, 0),
    ]
    rows = list(csv.DictReader(io.StringIO(cli.ok("users", "list", "--format", "csv").stdout)))
    assert [(r["email"], r["csm_seat"], r["accounts"]) for r in rows] == [
        ("Ann@example.com", "true", "2"),
        ("viewer@example.com", "false", "0"),
    ]
    assert "Ann@example.com" in cli.ok("users", "list").stdout


def test_users_add_refuses_duplicates_and_bad_emails(cli: Cli) -> None:
    cli.csm("ann@example.com")
    assert cli.fails("users", "add", "ANN@example.com") == (
        "error: a user with email ANN@example.com already exists"
    )
    assert "not a valid email address" in cli.fails("users", "add", "not-an-email")


def test_a_user_without_a_seat_gets_one_and_can_then_own_accounts(cli: Cli) -> None:
    cli.ok("users", "add", "new@example.com")
    cli.account("A1")
    refused = cli.json("assign", "A1", "--to", "new@example.com")
    assert [i["outcome"] for i in refused["items"]] == ["refused_no_seat"]
    cli.ok("users", "set-seat", "new@example.com", "--on")
    assigned = cli.json("assign", "A1", "--to", "new@example.com")
    assert [i["outcome"] for i in assigned["items"]] == ["assigned"]
    cli.ok("users", "set-seat", "new@example.com", "--off")
    seats = {u["email"]: u["csm_seat"] for u in cli.json("users", "list")["items"]}
    assert seats == {"new@example.com": False}


def test_deactivating_an_owner_needs_transfer_to_or_keep(cli: Cli) -> None:
    leaver = cli.csm("leaver@example.com")
    cli.account("A1")
    cli.ok("assign", "A1", "--to", leaver)
    line = cli.fails("users", "deactivate", leaver)
    assert "still owns 1 accounts" in line
    assert "--transfer-to" in line
    assert "--keep" in line
    assert cli.fails("users", "deactivate", leaver, "--keep", "--transfer-to", leaver).endswith(
        "not both"
    )
    assert {u["email"]: u["active"] for u in cli.json("users", "list")["items"]}[leaver] is True


def test_deactivate_with_transfer_to_moves_the_book(cli: Cli) -> None:
    leaver = cli.csm("leaver@example.com")
    heir = cli.csm("heir@example.com")
    for ref in ("A1", "A2", "A3"):
        cli.account(ref)
    cli.ok("assign", "A1", "A2", "--to", leaver)
    cli.ok("assign", "A2", "A3", "--to", heir)

    preview = cli.json("users", "deactivate", leaver, "--transfer-to", heir, "--dry-run")
    assert preview["dry_run"] is True
    assert preview["active"] is True
    assert cli.count("--assigned-to", leaver) == 2

    done = cli.json("users", "deactivate", leaver, "--transfer-to", heir)
    assert done["active"] is False
    assert done["result"]["kind"] == "deactivate"
    assert done["result"]["closed"] == 2
    assert done["result"]["opened"] == 1  # heir already owned A2
    assert cli.owners("A1") == [heir]
    assert cli.owners("A2") == [heir]
    assert cli.count("--assigned-to", heir) == 3
    assert cli.count("--assigned-to", leaver) == 0
    overview = {row["email"]: row["accounts"] for row in cli.json("csms")["items"]}
    assert overview == {heir: 3}


def test_deactivate_with_keep_leaves_accounts_flagged_owner_inactive(cli: Cli) -> None:
    leaver = cli.csm("leaver@example.com")
    other = cli.csm("other@example.com")
    cli.account("A1")
    cli.account("A2")
    cli.account("A3")
    cli.ok("assign", "A1", "--to", leaver)
    cli.ok("assign", "A2", "--to", other)

    cli.ok("users", "deactivate", leaver, "--keep")
    no_one = cli.json("accounts", "list", "--not-assigned-to", other, "--who", "no-one")
    assert no_one["total"] == 2
    flags = {a["external_id"]: (a["csms"], a["owner_inactive"]) for a in no_one["items"]}
    assert flags == {"A1": ([leaver], True), "A3": ([], False)}
    assert "A1" in {a["external_id"] for a in cli.json("accounts", "list", "--unassigned")["items"]}

    refused = cli.json("assign", "A3", "--to", leaver)
    assert [i["outcome"] for i in refused["items"]] == ["refused_inactive"]


def test_an_inactive_user_is_refused_and_can_be_activated_again(cli: Cli) -> None:
    sleeper = cli.csm("sleeper@example.com")
    cli.account("A1")
    cli.ok("users", "deactivate", sleeper)
    refused = cli.json("assign", "A1", "--to", sleeper)
    assert [i["outcome"] for i in refused["items"]] == ["refused_inactive"]
    assert any("inactive" in m for m in refused["messages"])
    cli.ok("users", "activate", sleeper)
    assert [i["outcome"] for i in cli.json("assign", "A1", "--to", sleeper)["items"]] == [
        "assigned"
    ]
