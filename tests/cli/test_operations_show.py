"""operations show ID (what one operation changed) and the filters of operations list."""

from __future__ import annotations

import csv
import io

from tests.cli.conftest import Cli


def _moved(cli: Cli) -> str:
    cli.csm("ann@example.com", "--name", "Ann Lee")
    cli.csm("bob@example.com", "--name", "Bob Ray")
    for ref in ("A1", "A2", "A3"):
        cli.account(ref)
    cli.ok("assign", "A1", "A2", "--to", "ann@example.com")
    moved = cli.json("transfer", "--from", "ann@example.com", "--to", "Bob Ray")
    return str(moved["operation_id"])


def test_operations_show_lists_the_owners_it_opened_and_closed(cli: Cli) -> None:
    op = _moved(cli)
    shown = cli.json("operations", "show", op)
    assert (shown["total"], shown["more"], shown["operation"]["kind"]) == (4, False, "transfer")
    # People by name first, their email beside (one lookup for the operation's parameters).
    details = shown["operation"]["details"]
    # (PostgreSQL's JSONB keeps the parameters in its own key order, so each phrase alone)
    assert {"from Ann Lee (ann@example.com)", "to Bob Ray (bob@example.com)"} <= set(
        details.split("; ")
    )
    listed = cli.json("operations", "list")["items"][0]["details"]
    assert "to Bob Ray (bob@example.com)" in listed
    assert [(c["external_id"], c["action"], c["user_name"]) for c in shown["items"]] == [
        ("A1", "close", "Ann Lee"),
        ("A1", "open", "Bob Ray"),
        ("A2", "close", "Ann Lee"),
        ("A2", "open", "Bob Ray"),
    ]
    opened = cli.json("operations", "show", op, "--action", "open", "--owner", "Bob Ray")
    assert [c["external_id"] for c in opened["items"]] == ["A1", "A2"]
    one = cli.json("operations", "show", op, "--account", "a2", "--limit", "1")
    assert ([c["action"] for c in one["items"]], one["total"], one["more"]) == (["close"], 2, True)

    table = cli.ok("operations", "show", op).stdout
    assert "transfer by" in table
    assert "Bob Ray" in table
    assert "showing 1–4 of 4" in table
    rows = list(
        csv.DictReader(io.StringIO(cli.ok("operations", "show", op, "--format", "csv").stdout))
    )
    assert [(r["external_id"], r["action"]) for r in rows][:2] == [("A1", "close"), ("A1", "open")]
    assert "no operation 99" in cli.fails("operations", "show", "99")
    assert "cannot sort by 'mrr'" in cli.fails("operations", "show", op, "--sort", "mrr")


def test_operations_list_filters_and_speaks_in_words(cli: Cli) -> None:
    op = _moved(cli)
    undone = str(cli.json("operations", "undo", op)["operation_id"])
    listed = cli.json("operations", "list", "--kind", "undo")
    assert [o["id"] for o in listed["items"]] == [int(undone)]
    assert listed["items"][0]["details"] == "undoes #2 (transfer)"
    assert [o["kind"] for o in cli.json("operations", "list", "--account", "A2")["items"]] == [
        "undo",
        "transfer",
        "assign",
    ]
    assert cli.json("operations", "list", "--account", "A3")["items"] == []
    assert cli.json("operations", "list", "--since", "today", "--until", "today")["total"] == 3
    assert cli.json("operations", "list", "--until", "yesterday")["total"] == 0
    assert cli.json("operations", "list", "--by", "cli@bookwise.invalid")["total"] == 3
    assert "not a kind" in cli.fails("operations", "list", "--kind", "moved")
    assert "undoes #2 (transfer)" in cli.ok("operations", "list").stdout
