"""A dry run says what it would change, and says so plainly when that is nothing."""

from __future__ import annotations

from tests.cli.conftest import Cli

ANN, BOB = "ann@example.com", "bob@example.com"


def _team(cli: Cli) -> None:
    cli.csm(ANN)
    cli.csm(BOB)
    cli.account("A1")
    cli.account("A2")
    cli.ok("assign", "A1", "--to", ANN)
    cli.ok("accounts", "set-policy", "A1", "--policy", "own")


def test_a_dry_run_that_changes_nothing_says_so_and_offers_no_fingerprint(cli: Cli) -> None:
    _team(cli)
    for args in (
        ["assign", "A1", "--to", ANN],  # already hers
        ["unassign", "A2", "--from", ANN],  # never hers
        ["transfer", "--from", BOB, "--to", ANN],  # an empty book
        ["accounts", "set-policy", "A1", "--policy", "own"],  # its policy already
        ["inherit", "--default", "own"],  # the default already
    ):
        out = cli.ok(*args, "--dry-run").stdout
        assert "nothing would change" in out, (args, out)
        assert "fingerprint" not in out, (args, out)
        assert "nothing was written" in out, (args, out)


def test_a_dry_run_that_changes_something_keeps_its_figures_and_hint(cli: Cli) -> None:
    _team(cli)
    out = cli.ok("assign", "A2", "--to", ANN, "--dry-run").stdout
    assert "nothing would change" not in out
    assert "accounts changed 1" in out
    assert "apply with --fingerprint" in out
    undo = cli.ok("operations", "undo", "1", "--dry-run").stdout
    assert "nothing would change" not in undo
    assert "fingerprint: " in undo


def test_the_json_answer_keeps_its_fields(cli: Cli) -> None:
    _team(cli)
    result = cli.json("assign", "A1", "--to", ANN, "--dry-run")
    assert (result["dry_run"], result["accounts_changed"]) == (True, 0)
    assert result["fingerprint"]
