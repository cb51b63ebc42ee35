"""segments create/edit/list/show/members/refresh/delete, --segment, and attributes rename."""

from __future__ import annotations

import csv
import io

from tests.cli.conftest import Cli

PARENTS = "Michael's parent companies"
CHILDREN = "Michael's children companies"
MICHAEL = "michael@example.com"


def rule_error(cli: Cli, *args: str) -> list[str]:
    """Run a command that must fail on its rule; return its stderr lines (error, rule, caret)."""
    result = cli.run(*args)
    assert result.exit_code == 1, (
        f"expected exit 1, got {result.exit_code}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
    )
    assert "Traceback" not in result.output
    lines = result.stderr.rstrip("\n").splitlines()
    assert lines[0].startswith("error: invalid rule: "), lines
    return lines


def _refs(listing: dict[str, object]) -> list[str]:
    items = listing["items"]
    assert isinstance(items, list)
    return [item["external_id"] for item in items]


def _custify(cli: Cli) -> str:
    """Michael owns P1, P3, S (no children) and M (a middle account); ann owns P2 and C2.

    P1 > C1, C2 · P2 > C3 · P3 > C4 · M (under P2) > G1. Michael's children: C1, C2, C4, G1.
    """
    ann = cli.csm("ann@example.com")
    cli.csm(MICHAEL)
    for ref, tier in (("P1", "1"), ("P2", "1"), ("P3", "2"), ("S", "1")):
        cli.account(ref, "--tier", tier)
    cli.account("C1", "--parent", "P1", "--tier", "1")
    cli.account("C2", "--parent", "P1", "--tier", "2")
    cli.account("C3", "--parent", "P2", "--tier", "1")
    cli.account("C4", "--parent", "P3", "--tier", "1")
    cli.account("M", "--parent", "P2", "--tier", "2")
    cli.account("G1", "--parent", "M", "--tier", "2")
    cli.ok("assign", "P1", "P3", "S", "M", "--to", MICHAEL)
    cli.ok("assign", "P2", "C2", "--to", ann)
    cli.ok("segments", "create", PARENTS, "--rule", f"csm is {MICHAEL} and company level is 1")
    cli.ok(
        "segments",
        "create",
        CHILDREN,
        "--rule",
        "company level is 0 and parent company is in segment “michael’s parent companies”",
        "--description",
        "children of Michael's parents",
    )
    return ann


def test_the_custify_recipe_assigns_exactly_michaels_children(cli: Cli) -> None:
    ann = _custify(cli)
    shown = cli.json("segments", "show", CHILDREN)
    # the reference is stored under the referenced segment's own spelling
    assert shown["rule"] == f'company level = 0 and parent in segment "{PARENTS}"'
    assert shown["english"] == (
        f"Company level is 0 (a child company) and the parent is in segment “{PARENTS}”"
    )
    assert _refs(cli.json("segments", "members", PARENTS)) == ["M", "P1", "P3"]
    assert _refs(cli.json("segments", "members", CHILDREN)) == ["C1", "C2", "C4", "G1"]

    done = cli.json("assign", "--segment", CHILDREN, "--to", MICHAEL)
    assert (done["counts"], done["opened"]) == ({"assigned": 4}, 4)
    changed = {(s["external_id"], s["user"], s["action"]) for s in done["sample"]}
    assert changed == {(ref, MICHAEL, "open") for ref in ("C1", "C2", "C4", "G1")}
    assert cli.count("--assigned-to", MICHAEL) == 8
    assert _refs(cli.json("accounts", "list", "--assigned-to", MICHAEL, "--where", "is_child")) == [
        "C1",
        "C2",
        "C4",
        "G1",
        "M",
    ]
    assert cli.owners("C2") == [ann, MICHAEL]  # the other owner stays
    assert cli.owners("C3") == []  # its parent is ann's: not one of Michael's children
    operation = cli.json("operations", "list")["items"][0]
    assert operation["parameters"]["filter"] == f"segment: {CHILDREN}"

    # a second run finds nothing left to do, however the name is spelled
    again = cli.json("assign", "--segment", "MICHAEL’S  children companies", "--to", MICHAEL)
    assert (again["opened"], again["operation_id"]) == (0, None)
    undone = cli.json("operations", "undo", str(done["operation_id"]))
    assert undone["closed"] == 4
    assert cli.count("--assigned-to", MICHAEL) == 4


def test_where_and_segment_together_narrow_both(cli: Cli) -> None:
    _custify(cli)
    assert cli.count("--segment", CHILDREN) == 4
    assert cli.count("--where", "tier = 1") == 6
    both = cli.json("accounts", "list", "--segment", CHILDREN, "--where", "tier = 1")
    assert _refs(both) == ["C1", "C4"]
    assert both["filter"] == f"rule: tier = 1, segment: {CHILDREN}"
    assert cli.count("--segment", CHILDREN, "--where", "tier = 1", "--unassigned") == 2
    assert cli.count("--segment", PARENTS, "--not-assigned-to", MICHAEL) == 0

    done = cli.json("assign", "--segment", CHILDREN, "--where", "tier = 1", "--to", MICHAEL)
    assert done["counts"] == {"assigned": 2}
    assert (MICHAEL in cli.owners("C1"), MICHAEL in cli.owners("C2")) == (True, False)

    for command in (
        ("assign", "C2", "--segment", CHILDREN, "--to", MICHAEL),
        ("assign", "C2", "--segment", CHILDREN, "--where", "tier = 2", "--to", MICHAEL),
        ("accounts", "set-policy", "C2", "--segment", CHILDREN, "--policy", "inherit"),
    ):
        assert cli.fails(*command) == "error: name accounts or a filter, not both", command
    assert cli.fails("accounts", "list", "--segment", "Michaels parent companies") == (
        f"error: no segment named 'Michaels parent companies'; did you mean \"{PARENTS}\"?"
    )
    assert cli.fails("assign", "--segment", "nope", "--to", MICHAEL) == (
        "error: no segment named 'nope'"
    )


def test_segment_selects_for_unassign_transfer_set_policy_and_export(cli: Cli) -> None:
    ann = _custify(cli)
    policy = cli.json("accounts", "set-policy", "--segment", CHILDREN, "--policy", "inherit")
    assert policy["policies_changed"] == 4
    assert (cli.owners("C1"), cli.owners("C2"), cli.owners("G1")) == ([MICHAEL],) * 3

    exported = cli.ok("export", "accounts", "--segment", PARENTS).stdout
    rows = list(csv.DictReader(io.StringIO(exported.split("\n", 1)[1])))
    assert [(r["external_id"], r["csms"]) for r in rows] == [
        ("M", MICHAEL),
        ("P1", MICHAEL),
        ("P3", MICHAEL),
    ]

    moved = cli.json(
        "transfer", "--from", MICHAEL, "--to", ann, "--segment", PARENTS, "--where", "tier = 2"
    )
    assert moved["counts"] == {"transferred": 2}  # P3 and M; their inheriting children follow
    assert (cli.owners("C4"), cli.owners("G1"), cli.owners("C1")) == ([ann], [ann], [MICHAEL])
    assert cli.json("operations", "list")["items"][0]["parameters"]["filter"] == (
        f"rule: tier = 2, segment: {PARENTS}"
    )

    gone = cli.json("unassign", "--segment", PARENTS, "--from", MICHAEL)
    assert gone["counts"] == {"unassigned": 1}
    assert (cli.owners("P1"), cli.owners("C1")) == ([], [])
    assert cli.count("--segment", PARENTS) == 0


def test_create_list_show_and_edit(cli: Cli) -> None:
    _custify(cli)
    listed = cli.json("segments", "list")
    assert [(s["name"], s["members"], s["refreshed_at"]) for s in listed["items"]] == [
        (CHILDREN, 0, None),
        (PARENTS, 0, None),
    ]
    assert listed["total"] == 2
    shown = cli.json("segments", "show", "michael’s parent companies")
    assert (shown["name"], shown["live_members"], shown["members"]) == (PARENTS, 3, 0)
    assert shown["used_by"] == [CHILDREN]
    text = cli.ok("segments", "show", CHILDREN).stdout
    assert "description: children of Michael's parents" in text
    assert "members:     4 now · 0 at the last refresh" in text
    assert f"used by:     {CHILDREN}" in cli.ok("segments", "show", PARENTS).stdout

    created = cli.json("segments", "create", "Big", "--rule", "tier=1")
    assert created == {
        "id": created["id"],
        "name": "Big",
        "rule": "tier = 1",
        "description": "",
        "members": None,
        "refreshed_at": None,
    }
    lines = rule_error(cli, "segments", "create", "Bad", "--rule", "tier = 1 and helth < 3")
    assert "unknown field 'helth'" in lines[0]
    assert lines[1:] == ["  tier = 1 and helth < 3", "               ^^^^^"]
    ref = rule_error(cli, "segments", "create", "Bad", "--rule", 'in segment "Bigg"')
    assert "no segment named 'Bigg'; did you mean 'Big'?" in ref[0]
    assert "already exists" in cli.fails("segments", "create", "BIG", "--rule", "tier = 2")
    assert "1 to 200 characters" in cli.fails("segments", "create", "  ", "--rule", "tier = 2")
    assert cli.run("segments", "create", "NoRule").exit_code == 2

    edited = cli.json("segments", "edit", "big", "--rule", "tier = 2", "--description", "mid")
    assert (edited["name"], edited["rule"], edited["description"]) == ("Big", "tier = 2", "mid")
    assert cli.ok("segments", "members", "Big", "--count").stdout.strip() == "4"
    assert (
        "segment 'Big': tier = 2" in cli.ok("segments", "edit", "Big", "--description", "").stdout
    )
    assert cli.fails("segments", "edit", "Big") == "error: give --rule, --name or --description"
    assert "no segment named 'Small'" in cli.fails("segments", "edit", "Small", "--rule", "tier=1")
    assert "already exists" in cli.fails("segments", "edit", "Big", "--name", PARENTS.upper())
    assert cli.json("segments", "show", "Big")["rule"] == "tier = 2"  # nothing was written


def test_renaming_a_segment_rewrites_the_rules_that_use_it_and_cycles_are_refused(
    cli: Cli,
) -> None:
    _custify(cli)
    renamed = cli.json("segments", "edit", PARENTS, "--name", "Michael's parents")
    assert renamed["name"] == "Michael's parents"
    child = cli.json("segments", "show", CHILDREN)
    assert child["rule"] == 'company level = 0 and parent in segment "Michael\'s parents"'
    assert child["live_members"] == 4
    assert "no segment named" in cli.fails("segments", "show", PARENTS)

    cycle = rule_error(
        cli, "segments", "edit", "Michael's parents", "--rule", f'in segment "{CHILDREN}"'
    )
    assert "cycle" in cycle[0]
    assert CHILDREN in cycle[0]
    selfish = rule_error(cli, "segments", "create", "Loop", "--rule", 'not in segment "loop"')
    assert "cycle" in selfish[0]
    assert cli.json("segments", "show", "Michael's parents")["rule"] == (
        f'csm = "{MICHAEL}" and company level = 1'
    )


def test_members_pages_sorts_and_counts_live(cli: Cli) -> None:
    cli.csm(MICHAEL)
    for n in range(1, 6):
        cli.account(f"A{n}", "--mrr", f"{n}000", "--tier", "1" if n != 3 else "2")
    cli.ok("segments", "create", "Top", "--rule", "tier = 1")

    page = cli.json("segments", "members", "top", "--sort", "-mrr", "--limit", "2", "--offset", "1")
    assert (_refs(page), page["total"], page["segment"]) == (["A4", "A2"], 4, "Top")
    assert (page["limit"], page["offset"]) == (2, 1)
    assert page["items"][0]["mrr"] == "4000.00"
    assert cli.ok("segments", "members", "Top", "--count").stdout == "4\n"
    rows = list(
        csv.DictReader(io.StringIO(cli.ok("segments", "members", "Top", "--format", "csv").stdout))
    )
    assert [r["external_id"] for r in rows] == ["A1", "A2", "A4", "A5"]
    assert "showing 1–4 of 4" in cli.ok("segments", "members", "Top").stdout

    cli.ok("segments", "edit", "Top", "--rule", "tier = 1 and mrr >= 4000")
    assert cli.ok("segments", "members", "Top", "--count").stdout == "2\n"  # evaluated live
    assert "nothing at offset 5" in cli.ok("segments", "members", "Top", "--offset", "5").stdout
    assert "no segment named 'Topp'; did you mean 'Top'?" in cli.fails(
        "segments", "members", "Topp", "--count"
    )
    assert "no segment named 'Topp'" in cli.fails("segments", "members", "Topp")


def _refreshed(result: dict[str, list[dict[str, object]]]) -> list[tuple[object, ...]]:
    return [(r["segment"], r["entered"], r["left"], r["members"]) for r in result["items"]]


def test_refresh_records_who_entered_and_who_left(cli: Cli) -> None:
    ann = _custify(cli)
    first = cli.json("segments", "refresh")
    assert _refreshed(first) == [(PARENTS, 3, 0, 3), (CHILDREN, 4, 0, 4)]
    listed = cli.json("segments", "list")["items"]
    assert [(s["name"], s["members"]) for s in listed] == [(CHILDREN, 4), (PARENTS, 3)]
    assert all(s["refreshed_at"] for s in listed)
    assert "refreshed" in cli.ok("segments", "list").stdout

    cli.ok("transfer", "P1", "--from", MICHAEL, "--to", ann)
    cli.account("C5", "--parent", "P3")
    # live right away; materialised only at the next refresh
    assert cli.ok("segments", "members", CHILDREN, "--count").stdout == "3\n"
    shown = cli.ok("segments", "show", CHILDREN).stdout
    assert "members:     3 now · 4 at the last refresh" in shown

    only = cli.json("segments", "refresh", "michael’s CHILDREN companies")
    assert _refreshed(only) == [(CHILDREN, 1, 2, 3)]  # C5 entered; C1, C2 left
    assert cli.json("segments", "show", PARENTS)["members"] == 3  # not refreshed yet
    assert "segments refreshed" in cli.ok("segments", "refresh").stdout
    assert cli.json("segments", "show", PARENTS)["members"] == 2
    again = cli.json("segments", "refresh", PARENTS, CHILDREN)
    assert _refreshed(again) == [(PARENTS, 0, 0, 2), (CHILDREN, 0, 0, 3)]
    assert "no segment named 'nope'" in cli.fails("segments", "refresh", "nope")


def test_delete_is_refused_while_another_segment_uses_it(cli: Cli) -> None:
    _custify(cli)
    cli.ok("segments", "refresh")
    assert cli.fails("segments", "delete", "michael's parent companies") == (
        f'error: segment "{PARENTS}" is used by "{CHILDREN}"; change or delete those first'
    )
    assert len(cli.json("segments", "list")["items"]) == 2

    assert cli.ok("segments", "delete", CHILDREN).stdout == f'deleted segment "{CHILDREN}"\n'
    assert cli.json("segments", "show", PARENTS)["used_by"] == []
    cli.ok("segments", "delete", PARENTS)
    assert cli.json("segments", "list") == {"items": [], "total": 0}
    assert "no segment named" in cli.fails("accounts", "list", "--segment", CHILDREN)
    assert "no segment named" in cli.fails("segments", "delete", PARENTS)
    # the name is free again
    cli.ok("segments", "create", PARENTS, "--rule", "is_parent")
    assert cli.ok("segments", "members", PARENTS, "--count").stdout == "4\n"


def test_attributes_rename_migrates_the_segment_rules_that_use_it(cli: Cli) -> None:
    cli.ok("attributes", "add", "plan", "--type", "choice", "--choices", "gold,silver")
    cli.account("P", "--attr", "plan=gold")
    cli.account("C", "--parent", "P", "--attr", "plan=silver")
    cli.account("D", "--attr", "plan=silver")
    cli.ok("segments", "create", "Gold", "--rule", "custom.plan = gold")
    cli.ok("segments", "create", "Under gold", "--rule", "parent.custom.plan = gold")
    cli.ok("segments", "create", "Big", "--rule", "tier = 1")

    out = cli.ok("attributes", "rename", "plan", "tier_plan").stdout
    assert out.splitlines() == [
        "renamed custom attribute plan to tier_plan",
        "segment rules rewritten: Gold, Under gold",
    ]
    rules = {s["name"]: s["rule"] for s in cli.json("segments", "list")["items"]}
    assert rules == {
        "Big": "tier = 1",
        "Gold": 'custom.tier_plan = "gold"',
        "Under gold": 'parent.custom.tier_plan = "gold"',
    }
    assert _refs(cli.json("segments", "members", "Gold")) == ["P"]
    assert _refs(cli.json("segments", "members", "Under gold")) == ["C"]
    assert cli.json("accounts", "show", "P")["custom"] == {"tier_plan": "gold"}
    assert (
        "unknown field 'custom.plan'"
        in rule_error(cli, "accounts", "list", "--where", "custom.plan = gold")[0]
    )

    quiet = cli.ok("attributes", "rename", "tier_plan", "plan_name").stdout
    assert "segment rules rewritten: Gold, Under gold" in quiet
    cli.ok("segments", "delete", "Gold")
    cli.ok("segments", "delete", "Under gold")
    last = cli.ok("attributes", "rename", "plan_name", "plan").stdout
    assert last == "renamed custom attribute plan_name to plan\n"
    assert "no custom attribute 'nope'" in cli.fails("attributes", "rename", "nope", "x")
