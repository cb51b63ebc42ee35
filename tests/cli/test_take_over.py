"""bookwise take-over: one CSM becomes the only owner of the named or filtered accounts."""

from __future__ import annotations

from tests.cli.conftest import Cli


def test_take_over_named_accounts_previewed_then_applied(cli: Cli) -> None:
    ana, ben, rep = cli.csm("ana@example.com"), cli.csm("ben@example.com"), cli.csm("r@example.com")
    for ref in ("A", "B", "C"):
        cli.account(ref)
    cli.ok("assign", "A", "B", "--to", ana, "--to", ben)

    preview = cli.json("take-over", "A", "B", "C", "--to", rep, "--dry-run")
    assert [(i["ref"], i["outcome"]) for i in preview["items"]] == [
        ("A", "transferred"),
        ("B", "transferred"),
        ("C", "transferred"),
    ]
    assert cli.owners("A") == [ana, ben]  # a preview changes nothing
    done = cli.json(
        "take-over", "A", "B", "C", "--to", rep, "--fingerprint", preview["fingerprint"]
    )
    assert done["kind"] == "take_over"
    assert [cli.owners(ref) for ref in ("A", "B", "C")] == [[rep], [rep], [rep]]


def test_take_over_with_the_other_csms_filter(cli: Cli) -> None:
    ana, rep = cli.csm("ana@example.com"), cli.csm("r@example.com")
    for ref in ("A", "B", "N"):
        cli.account(ref)
    cli.ok("assign", "A", "B", "--to", ana)
    done = cli.json("take-over", "--not-assigned-to", rep, "--who", "others", "--to", rep)
    assert done["counts"] == {"transferred": 2}
    assert cli.owners("A") == [rep]
    assert cli.owners("N") == []  # no-one's: not on the "others" tab


def test_take_over_needs_accounts(cli: Cli) -> None:
    rep = cli.csm("r@example.com")
    assert "name accounts or a filter" in cli.fails("take-over", "--to", rep)
