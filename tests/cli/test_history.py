"""history (timeline, owners on a date, a book on a date) and operations list / undo."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from bookwise.dates import today
from tests.cli.conftest import Cli


def test_history_shows_the_timeline_and_the_owners_on_a_date(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("A1")
    cli.account("A2")
    cli.ok("assign", "A1", "--to", ann, "--reason", "territory")
    cli.ok("transfer", "A1", "--from", ann, "--to", bob, "--reason", "ann leaves")

    timeline = cli.json("history", "A1")
    assert timeline["total"] == 2
    assert [
        (h["user"], h["source"], h["reason"], h["actor"], h["ended_at"] is None)
        for h in timeline["items"]
    ] == [
        (ann, "manual", "territory", "cli@bookwise.invalid", False),
        (bob, "manual", "ann leaves", "cli@bookwise.invalid", True),
    ]
    first, second = timeline["items"]
    assert first["ended_operation_id"] == second["operation_id"]

    day = today().isoformat()
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert [h["user"] for h in cli.json("history", "A1", "--on", day)["items"]] == [bob]
    assert cli.json("history", "A1", "--on", yesterday)["items"] == []
    book = cli.json("history", "--csm", bob, "--on", day)
    assert ([h["external_id"] for h in book["items"]], book["total"]) == (["A1"], 1)
    assert cli.json("history", "--csm", ann)["items"] == []

    rows = list(csv.DictReader(io.StringIO(cli.ok("history", "A1", "--format", "csv").stdout)))
    assert [r["user"] for r in rows] == [ann, bob]
    assert "is not a date" in cli.fails("history", "A1", "--on", "31/12/2025")
    assert "name either an account" in cli.fails("history")
    assert "name either an account" in cli.fails("history", "A1", "--csm", ann)
    assert "ann leaves" in cli.ok("history", "A1").stdout


def test_operations_are_listed_newest_first_and_page(cli: Cli) -> None:
    ann = cli.csm("ann@example.com")
    for ref in ("A1", "A2", "A3"):
        cli.account(ref)
        cli.ok("assign", ref, "--to", ann)
    listed = cli.json("operations", "list")
    assert [(op["id"], op["kind"], op["accounts_changed"]) for op in listed["items"]] == [
        (3, "assign", 1),
        (2, "assign", 1),
        (1, "assign", 1),
    ]
    assert (listed["total"], listed["more"]) == (3, False)
    page = cli.json("operations", "list", "--limit", "2")
    # the total is counted (one COUNT) on every page, not only on the last
    assert ([op["id"] for op in page["items"]], page["total"], page["more"]) == ([3, 2], 3, True)
    last = cli.json("operations", "list", "--limit", "2", "--offset", "2")
    assert ([op["id"] for op in last["items"]], last["total"]) == ([1], 3)
    rows = list(csv.DictReader(io.StringIO(cli.ok("operations", "list", "--format", "csv").stdout)))
    assert [r["id"] for r in rows] == ["3", "2", "1"]
    assert "assign" in cli.ok("operations", "list").stdout


def test_undo_restores_the_previous_owners_as_a_new_operation(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("A1")
    cli.account("A2")
    cli.ok("assign", "A1", "A2", "--to", ann)
    moved = cli.json("transfer", "--from", ann, "--to", bob)
    op = str(moved["operation_id"])

    preview = cli.json("operations", "undo", op, "--dry-run")
    assert (preview["dry_run"], preview["opened"], preview["closed"]) == (True, 2, 2)
    assert cli.owners("A1") == [bob]

    undone = cli.json("operations", "undo", op)
    assert undone["kind"] == "undo"
    assert (cli.owners("A1"), cli.owners("A2")) == ([ann], [ann])
    listed = {o["id"]: o for o in cli.json("operations", "list")["items"]}
    assert listed[int(op)]["undone_by"] == undone["operation_id"]
    assert listed[undone["operation_id"]]["undoes"] == int(op)
    sources = [h["source"] for h in cli.json("history", "A1")["items"]]
    assert sources == ["manual", "manual", "undo"]

    assert f"already undone by operation {undone['operation_id']}" in cli.fails(
        "operations", "undo", op
    )
    assert cli.fails("operations", "undo", "999") == "error: no operation 999"


def test_undo_refuses_when_a_later_operation_changed_the_same_owners(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("A1")
    first = cli.json("assign", "A1", "--to", ann)["operation_id"]
    later = cli.json("transfer", "A1", "--from", ann, "--to", bob)["operation_id"]

    line = cli.fails("operations", "undo", str(first))
    assert f"cannot undo operation {first}" in line
    assert f"#{later} (transfer)" in line
    assert cli.owners("A1") == [bob]


def test_undo_applies_only_the_previewed_change_set(cli: Cli) -> None:
    ann, bob, cy = (cli.csm(f"{n}@example.com") for n in ("ann", "bob", "cy"))
    cli.account("A1")
    cli.account("A2")
    cli.ok("assign", "A1", "A2", "--to", ann)
    op = str(cli.json("transfer", "--from", ann, "--to", bob)["operation_id"])
    preview = cli.json("operations", "undo", op, "--dry-run")
    assert (
        f"--fingerprint {preview['fingerprint']}"
        in cli.ok("operations", "undo", op, "--dry-run").stdout
    )
    cli.ok("assign", "A1", "--to", cy)  # A1 changed since the preview (no undo conflict)

    stale = cli.fails("operations", "undo", op, "--fingerprint", preview["fingerprint"])
    assert "no longer those previewed" in stale
    assert cli.owners("A1") == [bob, cy]
    fresh = cli.json("operations", "undo", op, "--dry-run")["fingerprint"]
    cli.ok("operations", "undo", op, "--fingerprint", fresh)
    assert cli.owners("A1") == [ann, cy]


def test_set_policy_and_the_default_apply_only_the_previewed_change_set(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("P")
    cli.account("C", "--parent", "P")
    cli.ok("assign", "P", "--to", ann)
    cli.ok("assign", "C", "--to", bob)
    policy = cli.json("accounts", "set-policy", "C", "--policy", "inherit", "--dry-run")
    default = cli.json("inherit", "--default", "inherit", "--dry-run")
    cli.ok("assign", "P", "--to", bob)  # P's owners changed since both previews

    line = cli.fails(
        "accounts", "set-policy", "C", "--policy", "inherit", "--fingerprint", policy["fingerprint"]
    )
    assert "no longer those previewed" in line
    line = cli.fails("inherit", "--default", "inherit", "--fingerprint", default["fingerprint"])
    assert "no longer those previewed" in line
    assert cli.owners("C") == [bob]


def test_an_accounts_history_pages_with_limit_and_offset(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("A1")
    cli.ok("assign", "A1", "--to", ann)
    cli.ok("transfer", "A1", "--from", ann, "--to", bob)
    cli.ok("transfer", "A1", "--from", bob, "--to", ann)
    page = cli.json("history", "A1", "--limit", "1", "--offset", "1")
    assert ([h["user"] for h in page["items"]], page["total"]) == ([bob], 3)
    assert page["more"] is True
    last = cli.json("history", "A1", "--limit", "2", "--offset", "2")
    assert ([h["user"] for h in last["items"]], last["total"], last["more"]) == (
        [ann],
        3,
        False,
    )
