"""accounts add / show / list / set-parent / set-policy, and inherit --default."""

from __future__ import annotations

import csv
import io

from tests.cli.conftest import Cli


def test_a_child_added_under_an_owned_parent_inherits_its_csms(cli: Cli) -> None:
    ann = cli.csm("ann@example.com")
    cli.account("P", "--mrr", "5000", "--tier", "Tier 1", "--renewal-date", "2027-03-31")
    cli.ok("assign", "P", "--to", ann)

    added = cli.json(
        "accounts", "add", "Child", "--external-id", "C", "--parent", "P", "--policy", "inherit"
    )
    assert added["inheritance"]["inherited_opened"] == 1
    assert added["account"]["owners"]["csm"][0]["email"] == ann

    child = cli.json("accounts", "show", "C")
    assert (child["is_child"], child["is_parent"], child["depth"]) == (True, False, 1)
    assert child["parent"]["external_id"] == "P"
    assert (child["policy"], child["effective_policy"]) == ("inherit", "inherit")
    assert [(o["email"], o["source"]) for o in child["owners"]["csm"]] == [(ann, "inherited")]

    parent = cli.json("accounts", "show", "P")
    assert (parent["is_parent"], parent["is_child"], parent["depth"]) == (True, False, 0)
    assert (parent["mrr"], parent["tier"], parent["renewal_date"]) == ("5000.00", 1, "2027-03-31")
    assert [c["external_id"] for c in parent["children"]] == ["C"]
    assert (parent["policy"], parent["effective_policy"]) == ("default", "own")

    own = cli.json("accounts", "add", "Own child", "--external-id", "O", "--parent", "P")
    assert own["account"]["owners"] == {}
    assert own["account"]["effective_policy"] == "own"
    text = cli.ok("accounts", "show", "C").stdout
    assert "inherited" in text
    assert "P (Account P)" in text


def test_accounts_add_explains_bad_values(cli: Cli) -> None:
    assert "mrr" in cli.fails("accounts", "add", "X", "--mrr", "lots")
    assert "health_score" in cli.fails("accounts", "add", "X", "--health-score", "140")
    assert "no account with external id or id 'nope'" in cli.fails(
        "accounts", "add", "X", "--parent", "nope"
    )
    cli.account("A1")
    assert "already exists" in cli.fails("accounts", "add", "Y", "--external-id", "A1")
    assert cli.run("accounts", "add", "X", "--attr", "novalue").exit_code == 2
    assert cli.count() == 1


def _screen(cli: Cli) -> tuple[str, str]:
    """A1 ann · A2 ann+bob · A3 bob · A4 bob · A5, A6 no-one; MRR 100…600."""
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    for n in range(1, 7):
        cli.account(f"A{n}", "--mrr", f"{n}00.00")
    cli.ok("assign", "A1", "A2", "--to", ann)
    cli.ok("assign", "A2", "A3", "A4", "--to", bob)
    return ann, bob


def test_accounts_list_partitions_add_up_to_the_total(cli: Cli) -> None:
    ann, _bob = _screen(cli)
    total = cli.count()
    assigned = cli.count("--assigned-to", ann)
    no_one = cli.count("--not-assigned-to", ann, "--who", "no-one")
    others = cli.count("--not-assigned-to", ann, "--who", "others")
    everyone_else = cli.count("--not-assigned-to", ann, "--who", "all")
    assert (total, assigned, no_one, others, everyone_else) == (6, 2, 2, 2, 4)
    assert no_one + others == everyone_else
    assert assigned + everyone_else == total
    assert cli.count("--unassigned") == 2
    assert cli.count("--not-assigned-to", ann) == 4  # --who defaults to all

    listed = cli.json("accounts", "list", "--not-assigned-to", ann, "--who", "others")
    assert [a["external_id"] for a in listed["items"]] == ["A3", "A4"]
    assert listed["items"][0]["csms"] == ["bob@example.com"]
    co_owned = cli.json("accounts", "list", "--assigned-to", ann)["items"]
    assert {a["external_id"]: a["csms"] for a in co_owned} == {
        "A1": [ann],
        "A2": [ann, "bob@example.com"],
    }


def test_accounts_list_sorts_pages_and_counts(cli: Cli) -> None:
    _screen(cli)
    page = cli.json("accounts", "list", "--sort", "-mrr", "--limit", "2", "--offset", "1")
    assert [(a["external_id"], a["mrr"]) for a in page["items"]] == [
        ("A5", "500.00"),
        ("A4", "400.00"),
    ]
    assert (page["total"], page["limit"], page["offset"]) == (6, 2, 1)
    ascending = cli.json("accounts", "list", "--sort", "mrr", "--limit", "3")
    assert [a["external_id"] for a in ascending["items"]] == ["A1", "A2", "A3"]
    assert cli.ok("accounts", "list", "--count").stdout == "6\n"
    assert "cannot sort by 'colour'" in cli.fails("accounts", "list", "--sort", "colour")
    assert "--who only applies" in cli.fails("accounts", "list", "--who", "no-one")

    rows = list(
        csv.DictReader(
            io.StringIO(cli.ok("accounts", "list", "--sort", "name", "--format", "csv").stdout)
        )
    )
    assert [r["external_id"] for r in rows] == ["A1", "A2", "A3", "A4", "A5", "A6"]
    assert (rows[1]["mrr"], rows[1]["csms"]) == ("200.00", "ann@example.com;bob@example.com")
    table = cli.ok("accounts", "list", "--limit", "2").stdout
    assert "showing 1–2 of 6" in table


def test_set_parent_refuses_a_cycle_and_reapplies_inheritance(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("P")
    cli.account("C", "--parent", "P", "--policy", "inherit")
    cli.account("G", "--parent", "C", "--policy", "inherit")
    cli.account("Q")
    cli.ok("assign", "P", "--to", ann)
    cli.ok("assign", "Q", "--to", bob)
    assert cli.owners("G") == [ann]

    line = cli.fails("accounts", "set-parent", "P", "--parent", "G")
    assert "would make a cycle" in line
    assert "G (Account G) is already below P (Account P)" in line

    preview = cli.json("accounts", "set-parent", "C", "--parent", "Q", "--dry-run")
    assert (preview["dry_run"], preview["inherited_opened"], preview["inherited_closed"]) == (
        True,
        2,
        2,
    )
    assert cli.owners("C") == [ann]
    moved = cli.json("accounts", "set-parent", "C", "--parent", "Q")
    assert moved["operation_id"] is not None
    assert (cli.owners("C"), cli.owners("G")) == ([bob], [bob])
    assert cli.json("accounts", "show", "G")["depth"] == 2

    cli.ok("accounts", "set-parent", "C", "--none")
    top = cli.json("accounts", "show", "C")
    assert (top["depth"], top["parent"], top["effective_policy"]) == (0, None, "own")
    assert "exactly one of" in cli.fails("accounts", "set-parent", "C")


def test_set_policy_inherit_replaces_owners_by_the_parents(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("P")
    cli.account("C1", "--parent", "P")
    cli.account("C2", "--parent", "P")
    cli.ok("assign", "P", "--to", ann)
    cli.ok("assign", "C1", "C2", "--to", bob)

    result = cli.json("accounts", "set-policy", "C1", "C2", "--policy", "inherit")
    assert result["policies_changed"] == 2
    assert (cli.owners("C1"), cli.owners("C2")) == ([ann], [ann])
    history = cli.json("history", "C1")["items"]
    assert [(h["user"], h["source"], h["ended_at"] is None) for h in history] == [
        (bob, "manual", False),
        (ann, "inherited", True),
    ]
    refused = cli.json("assign", "C1", "--to", bob)
    assert [i["outcome"] for i in refused["items"]] == ["refused_inherits"]

    back = cli.json("accounts", "set-policy", "--assigned-to", ann, "--policy", "own")
    assert back["policies_changed"] == 3  # P (top-level) too: the filter matched it
    assert cli.owners("C1") == [ann]  # own keeps the current owners
    assert cli.json("accounts", "show", "C1")["policy"] == "own"
    cli.ok("accounts", "set-policy", "C1", "--policy", "default")
    assert cli.json("accounts", "show", "C1")["policy"] == "default"
    assert "name accounts or a filter" in cli.fails("accounts", "set-policy", "--policy", "own")


def test_inherit_default_makes_children_follow_and_reconciles(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("P")
    cli.account("C", "--parent", "P")
    cli.account("K", "--parent", "P", "--policy", "own")
    cli.ok("assign", "P", "--to", ann)
    cli.ok("assign", "C", "K", "--to", bob)

    preview = cli.json("inherit", "--default", "inherit", "--dry-run")
    assert (preview["dry_run"], preview["inherited_opened"]) == (True, 1)
    assert cli.owners("C") == [bob]

    done = cli.json("inherit", "--default", "inherit")
    assert done["kind"] == "set_default_policy"
    assert (cli.owners("C"), cli.owners("K")) == ([ann], [bob])
    shown = cli.json("accounts", "show", "C")
    assert (shown["policy"], shown["default_policy"], shown["effective_policy"]) == (
        "default",
        "inherit",
        "inherit",
    )
    nothing = cli.json("inherit")
    assert (nothing["operation_id"], nothing["accounts_changed"]) == (None, 0)
    assert "nothing to change" in cli.ok("inherit").stdout


def test_accounts_list_in_another_role_shows_the_owners_in_that_role(cli: Cli) -> None:
    """Issue 13, defect 3: ``--role account_manager`` lists (and flags) account managers."""
    ann, _bob = _screen(cli)
    cli.ok("roles", "add", "account_manager")
    mo, gone = cli.csm("mo@example.com"), cli.csm("gone@example.com")
    cli.ok("assign", "A1", "A3", "--to", mo, "--role", "account_manager")
    cli.ok("assign", "A5", "--to", gone, "--role", "account_manager")
    cli.ok("users", "deactivate", gone, "--keep")

    mine = cli.json("accounts", "list", "--assigned-to", mo, "--role", "account_manager")
    assert [(a["external_id"], a["csms"], a["owner_inactive"]) for a in mine["items"]] == [
        ("A1", [mo], False),
        ("A3", [mo], False),
    ]
    nobody = cli.json("accounts", "list", "--unassigned", "--role", "account_manager")
    assert {a["external_id"]: (a["csms"], a["owner_inactive"]) for a in nobody["items"]} == {
        "A2": ([], False),
        "A4": ([], False),
        "A5": ([gone], True),
        "A6": ([], False),
    }
    assert cli.json("accounts", "list", "--assigned-to", ann)["items"][0]["csms"] == [ann]
