"""accounts edit: fields, custom attributes and the parent, with the CLI's usual preview."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_edit_changes_fields_and_clears_blanks(cli: Cli) -> None:
    cli.ok("attributes", "add", "plan", "--type", "text")
    cli.account("A1", "--mrr", "100", "--region", "EMEA", "--health-score", "40")
    edited = cli.json(
        "accounts",
        "edit",
        "A1",
        "--name",
        "Acme",
        "--mrr",
        "2500.50",
        "--tier",
        "Tier 2",
        "--region",
        "",
        "--health-score",
        "",
        "--attr",
        "plan=gold",
    )
    assert edited["changed"] == ["custom", "health_score", "mrr", "name", "region", "tier"]
    shown = cli.json("accounts", "show", "A1")
    assert (shown["name"], shown["mrr"], shown["tier"]) == ("Acme", "2500.50", 2)
    assert (shown["region"], shown["health_score"]) == (None, None)
    assert shown["custom"] == {"plan": "gold"}
    assert "changed name" in cli.ok("accounts", "edit", "A1", "--name", "Acme Inc").stdout


def test_edit_refuses_bad_values_like_add(cli: Cli) -> None:
    cli.account("A1")
    cli.account("A2")
    assert "health_score" in cli.fails("accounts", "edit", "A1", "--health-score", "140")
    assert "already exists" in cli.fails("accounts", "edit", "A1", "--external-id", "A2")
    assert "nothing to change" in cli.fails("accounts", "edit", "A1")
    assert "no account" in cli.fails("accounts", "edit", "nope", "--name", "X")
    assert cli.json("accounts", "show", "A1")["name"] == "Account A1"


def test_edit_moves_with_preview_and_fingerprint(cli: Cli) -> None:
    ann = cli.csm("ann@example.com")
    cli.account("P")
    cli.account("C", "--policy", "inherit")
    cli.ok("assign", "P", "--to", ann)
    preview = cli.json("accounts", "edit", "C", "--name", "Child", "--parent", "P", "--dry-run")
    assert preview["dry_run"] is True
    assert preview["move"]["inherited_opened"] == 1
    assert cli.json("accounts", "show", "C")["name"] == "Account C"  # a preview writes nothing
    assert cli.json("accounts", "show", "C")["parent"] is None
    fingerprint = preview["move"]["fingerprint"]
    done = cli.json(
        "accounts", "edit", "C", "--name", "Child", "--parent", "P", "--fingerprint", fingerprint
    )
    assert done["account"]["parent"]["external_id"] == "P"
    assert cli.owners("C") == [ann]
    assert cli.json("accounts", "show", "C")["name"] == "Child"
    cli.ok("accounts", "edit", "C", "--top-level")
    assert cli.json("accounts", "show", "C")["parent"] is None
