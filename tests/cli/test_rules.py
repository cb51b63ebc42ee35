"""rules check / rules fields, and ``--where RULE`` on every selection."""

from __future__ import annotations

import csv
import io

from tests.cli.conftest import Cli


def rule_error(cli: Cli, *args: str) -> list[str]:
    """Run a command that must fail on its rule; return its stderr lines (error, rule, caret)."""
    result = cli.run(*args)
    assert result.exit_code == 1, (
        f"expected exit 1, got {result.exit_code}\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
    )
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.rstrip("\n").splitlines()
    assert lines[0].startswith("error: invalid rule: "), lines
    return lines


def _book(cli: Cli) -> tuple[str, str]:
    """T1..T4 are tier 1 with health 10/40/60/None, T5 tier 2 health 20; ann owns T1, T3; bob T2."""
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("T1", "--tier", "1", "--health-score", "10", "--mrr", "100")
    cli.account("T2", "--tier", "1", "--health-score", "40", "--mrr", "200")
    cli.account("T3", "--tier", "1", "--health-score", "60", "--mrr", "300")
    cli.account("T4", "--tier", "1", "--mrr", "400")
    cli.account("T5", "--tier", "2", "--health-score", "20", "--mrr", "500")
    cli.ok("assign", "T1", "T3", "--to", ann)
    cli.ok("assign", "T2", "--to", bob)
    return ann, bob


def _refs(listing: dict[str, object]) -> list[str]:
    items = listing["items"]
    assert isinstance(items, list)
    return [item["external_id"] for item in items]


# --- rules check ---------------------------------------------------------------------------


def test_rules_check_prints_the_canonical_rule_its_english_and_the_match_count(cli: Cli) -> None:
    _book(cli)
    text = cli.ok("rules", "check", "tier=1   AND health_score<50").stdout
    assert text.splitlines() == [
        "rule:    tier = 1 and health_score < 50",
        "means:   Tier is 1 and health score is below 50",
        "matches: 2 accounts",
    ]
    one = cli.ok("rules", "check", "tier = 2").stdout
    assert "matches: 1 account\n" in one
    assert "matches: 0 accounts" in cli.ok("rules", "check", "tier = 3").stdout

    checked = cli.json("rules", "check", "tier in (1, 2) and not (health_score >= 50)")
    assert checked["text"] == "tier in (1, 2) and not (health_score >= 50)"
    assert checked["english"] == "Tier is one of 1, 2 and not (health score is at least 50)"
    # not pushes to the exact complement: the account without a health score matches too
    assert checked["matches"] == 4
    assert checked["rule"]["kind"] == "and"
    assert [item["kind"] for item in checked["rule"]["items"]] == ["condition", "not"]


def test_rules_check_counts_owner_and_hierarchy_conditions(cli: Cli) -> None:
    ann, bob = _book(cli)
    cli.account("C1", "--parent", "T1")
    cli.account("C2", "--parent", "T2")
    assert cli.json("rules", "check", f"csm is {ann}")["matches"] == 2
    assert cli.json("rules", "check", "csm is empty")["matches"] == 4
    assert cli.json("rules", "check", f"is_child and parent.csm = {bob}")["matches"] == 1
    checked = cli.json("rules", "check", f"csm is {ann} and company level is 1")
    assert checked["text"] == f'csm = "{ann}" and company level = 1'
    assert checked["english"] == f"CSM is {ann} and company level is 1 (a parent company)"
    assert checked["matches"] == 1  # T1 has a child, T3 has none


def test_a_bad_rule_exits_1_with_a_caret_under_the_offending_token(cli: Cli) -> None:
    cli.account("A1")
    assert rule_error(cli, "rules", "check", "helth_score < 50") == [
        "error: invalid rule: unknown field 'helth_score'; did you mean 'health_score'? (column 1)",
        "  helth_score < 50",
        "  ^^^^^^^^^^^",
    ]
    money = rule_error(cli, "rules", "check", 'tier = 1 and mrr > "abc"')
    assert money[0] == 'error: invalid rule: mrr is an amount of money, not "abc" (column 20)'
    assert money[1:] == ['  tier = 1 and mrr > "abc"', "                     ^^^^^"]

    early = rule_error(cli, "rules", "check", "tier = 1 and")
    assert "the rule ends too early" in early[0]
    assert early[1:] == ["  tier = 1 and", "              ^"]

    nobody = rule_error(cli, "rules", "check", "csm is nobody@example.com", "--format", "json")
    assert nobody[0].startswith("error: invalid rule: no user with email or name")
    assert nobody[2] == "         " + "^" * len("nobody@example.com")

    assert "the rule is empty" in rule_error(cli, "rules", "check", "  ")[0]
    assert "does not apply to name" in rule_error(cli, "rules", "check", "name is empty")[0]


def test_rules_fields_lists_every_field_with_custom_attributes_and_extra_roles(cli: Cli) -> None:
    cli.ok("attributes", "add", "seats", "--type", "number")
    cli.ok("attributes", "add", "plan", "--type", "choice", "--choices", "gold,silver")
    cli.ok("roles", "add", "account_manager")

    listed = cli.json("rules", "fields")
    fields = {item["field"]: item for item in listed["items"]}
    assert listed["total"] == len(listed["items"])
    for builtin in ("name", "mrr", "health_score", "tier", "renewal_date", "is_child", "csm"):
        assert builtin in fields
    assert {"company_level", "csm_count"} <= set(fields)
    names = [item["field"] for item in listed["items"]]
    assert names[-3:] == ["account_manager", "custom.plan", "custom.seats"]
    assert names.count("csm") == 1
    assert (fields["custom.plan"]["type"], fields["custom.seats"]["type"]) == ("choice", "number")
    assert fields["account_manager"]["type"] == "user"
    assert "is empty" in fields["account_manager"]["operators"]
    assert "contains" not in fields["tier"]["operators"]

    table = cli.ok("rules", "fields").stdout
    assert "custom.seats" in table
    assert "also: parent.<field>, in segment S" in table

    cli.account("A1", "--attr", "plan=gold", "--attr", "seats=12")
    cli.account("A2", "--attr", "plan=silver")
    assert cli.json("rules", "check", "custom.plan = gold and custom.seats > 10")["matches"] == 1
    assert cli.json("rules", "check", "account_manager is empty")["matches"] == 2
    hint = rule_error(cli, "rules", "check", "seats > 10")[0]
    assert "custom attributes are written custom.seats" in hint


# --- --where on every selection -----------------------------------------------------------


def test_accounts_list_where_combines_with_the_ownership_filters(cli: Cli) -> None:
    ann, bob = _book(cli)
    rule = "tier = 1 and health_score < 50"
    assert _refs(cli.json("accounts", "list", "--where", rule)) == ["T1", "T2"]

    # "Accounts NOT assigned to rep → advanced filter"
    advanced = cli.json("accounts", "list", "--not-assigned-to", ann, "--where", rule)
    assert _refs(advanced) == ["T2"]
    assert advanced["filter"] == (
        f"not assigned to {ann} (who: all), rule: tier = 1 and health_score < 50"
    )
    assert cli.count("--not-assigned-to", ann, "--who", "others", "--where", rule) == 1
    assert cli.count("--not-assigned-to", ann, "--who", "no-one", "--where", rule) == 0
    assert cli.count("--assigned-to", ann, "--where", rule) == 1
    assert cli.count("--unassigned", "--where", "tier = 1") == 1  # T4
    # the two halves of a rule's matches add up, whoever is asked about
    for email in (ann, bob):
        assert cli.count("--assigned-to", email, "--where", rule) + cli.count(
            "--not-assigned-to", email, "--where", rule
        ) == cli.count("--where", rule)

    by_mrr = cli.json("accounts", "list", "--where", "tier = 1", "--sort", "-mrr", "--limit", "2")
    assert (_refs(by_mrr), by_mrr["total"]) == (["T4", "T3"], 4)
    text = cli.ok("accounts", "list", "--where", rule).stdout
    assert "showing 1–2 of 2" in text
    rows = list(
        csv.DictReader(
            io.StringIO(cli.ok("accounts", "list", "--where", rule, "--format", "csv").stdout)
        )
    )
    assert [r["external_id"] for r in rows] == ["T1", "T2"]

    assert "--who only applies" in cli.fails("accounts", "list", "--who", "no-one", "--where", rule)
    lines = rule_error(cli, "accounts", "list", "--not-assigned-to", ann, "--where", "helth < 5")
    assert lines[1:] == ["  helth < 5", "  ^^^^^"]


def test_assign_where_stores_the_rule_on_the_operation_and_is_undoable(cli: Cli) -> None:
    ann, bob = _book(cli)
    cat = cli.csm("cat@example.com")
    before = cli.json("operations", "list")

    preview = cli.json(
        "assign", "--where", "tier = 1 and health_score<50", "--to", cat, "--dry-run"
    )
    assert (preview["dry_run"], preview["opened"]) == (True, 2)
    assert [s["external_id"] for s in preview["sample"]] == ["T1", "T2"]
    assert cli.json("operations", "list") == before

    done = cli.json(
        "assign",
        "--where",
        "tier = 1 and health_score<50",
        "--to",
        cat,
        "--fingerprint",
        preview["fingerprint"],
    )
    assert (done["counts"], done["opened"]) == ({"assigned": 2}, 2)
    assert (cli.owners("T1"), cli.owners("T2")) == ([ann, cat], [bob, cat])
    operation = cli.json("operations", "list")["items"][0]
    assert operation["id"] == done["operation_id"]
    assert operation["parameters"]["filter"] == "rule: tier = 1 and health_score < 50"

    undone = cli.json("operations", "undo", str(done["operation_id"]))
    assert undone["closed"] == 2
    assert (cli.owners("T1"), cli.owners("T2")) == ([ann], [bob])
    assert cli.count("--assigned-to", cat) == 0
    listed = cli.json("operations", "list")["items"]
    assert listed[1]["undone_by"] == undone["operation_id"]

    # combined with an ownership filter, only accounts matching both are taken
    narrowed = cli.json("assign", "--unassigned", "--where", "tier = 1", "--to", cat)
    assert narrowed["counts"] == {"assigned": 1}
    assert cli.owners("T4") == [cat]
    assert cli.json("operations", "list")["items"][0]["parameters"]["filter"] == (
        "assigned to no-one, rule: tier = 1"
    )


def test_a_bad_where_writes_nothing_and_refs_with_where_are_refused(cli: Cli) -> None:
    ann, _bob = _book(cli)
    before = (cli.json("operations", "list"), cli.json("csms"))
    lines = rule_error(cli, "assign", "--where", "tier = 1 and", "--to", ann)
    assert "the rule ends too early" in lines[0]
    assert "the rule is empty" in rule_error(cli, "assign", "--where", "", "--to", ann)[0]
    assert (cli.json("operations", "list"), cli.json("csms")) == before

    for command in (
        ("assign", "T4", "--where", "tier = 1", "--to", ann),
        ("unassign", "T1", "--where", "tier = 1", "--from", ann),
        ("transfer", "T1", "--where", "tier = 1", "--from", ann, "--to", "bob@example.com"),
        ("accounts", "set-policy", "T1", "--where", "tier = 1", "--policy", "own"),
    ):
        assert cli.fails(*command) == "error: name accounts or a filter, not both", command


def test_unassign_transfer_set_policy_and_export_take_where(cli: Cli) -> None:
    ann, bob = _book(cli)
    cli.ok("assign", "T5", "--to", ann)

    gone = cli.json("unassign", "--where", "health_score < 15", "--from", ann)
    assert gone["counts"] == {"unassigned": 1}
    assert cli.owners("T1") == []

    moved = cli.json("transfer", "--from", ann, "--to", bob, "--where", "tier = 2")
    assert moved["counts"] == {"transferred": 1}
    assert (cli.owners("T3"), cli.owners("T5")) == ([ann], [bob])
    assert cli.json("operations", "list")["items"][0]["parameters"]["filter"] == "rule: tier = 2"

    cli.account("K1", "--parent", "T2", "--tier", "3")
    cli.account("K2", "--parent", "T2", "--tier", "4")
    policy = cli.json(
        "accounts", "set-policy", "--where", "is_child and tier = 3", "--policy", "inherit"
    )
    assert policy["policies_changed"] == 1
    assert (cli.owners("K1"), cli.owners("K2")) == ([bob], [])
    assert cli.json("accounts", "show", "K1")["policy"] == "inherit"

    exported = cli.ok("export", "accounts", "--where", "tier = 1 and csm is not empty").stdout
    rows = list(csv.DictReader(io.StringIO(exported.split("\n", 1)[1])))
    assert [(r["external_id"], r["csms"]) for r in rows] == [("T2", bob), ("T3", ann)]
    narrowed = cli.ok("export", "accounts", "--assigned-to", ann, "--where", "tier = 1").stdout
    assert [r["external_id"] for r in csv.DictReader(io.StringIO(narrowed.split("\n", 1)[1]))] == [
        "T3"
    ]
    lines = rule_error(cli, "export", "accounts", "--where", "helth_score < 50")
    assert "did you mean 'health_score'" in lines[0]
