"""assign / unassign / transfer / csms: outcomes, filters, previews and fingerprints."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Cli


def _outcomes(result: dict[str, object]) -> list[tuple[str, str, str]]:
    items = result["items"]
    assert isinstance(items, list)
    return [(i["ref"], i["user"], i["outcome"]) for i in items]


def test_assign_by_refs_reports_every_id_in_request_order(cli: Cli) -> None:
    ann = cli.csm("ann@example.com")
    gone = cli.csm("gone@example.com")
    cli.ok("users", "add", "noseat@example.com")
    cli.account("P")
    cli.account("C", "--parent", "P", "--policy", "inherit")
    cli.account("O")
    cli.ok("assign", "O", "--to", ann)
    cli.ok("users", "deactivate", gone)

    result = cli.json(
        "assign", "O", "ZZZ", "C", "P", "--to", ann, "--to", gone, "--to", "noseat@example.com"
    )
    assert _outcomes(result) == [
        ("O", ann, "already_assigned"),
        ("O", gone, "refused_inactive"),
        ("O", "noseat@example.com", "refused_no_seat"),
        ("ZZZ", ann, "not_found"),
        ("ZZZ", gone, "not_found"),
        ("ZZZ", "noseat@example.com", "not_found"),
        ("C", ann, "assigned"),  # C inherits and follows P, named in the same command
        ("C", gone, "refused_inactive"),
        ("C", "noseat@example.com", "refused_no_seat"),
        ("P", ann, "assigned"),
        ("P", gone, "refused_inactive"),
        ("P", "noseat@example.com", "refused_no_seat"),
    ]
    assert result["counts"] == {
        "already_assigned": 1,
        "assigned": 2,
        "not_found": 3,
        "refused_inactive": 3,
        "refused_no_seat": 3,
    }
    assert (result["opened"], result["inherited_opened"]) == (1, 1)
    assert cli.owners("C") == [ann]  # through its parent, not directly

    text = cli.ok("assign", "O", "ZZZ", "--to", ann).stdout
    assert "already_assigned" in text
    assert "not_found" in text
    assert "per requested id, in request order" in text


def test_assign_by_filter_takes_every_account_no_one_owns(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    for ref in ("A1", "A2", "A3", "A4"):
        cli.account(ref)
    cli.ok("assign", "A1", "--to", ann)

    result = cli.json("assign", "--not-assigned-to", bob, "--who", "no-one", "--to", bob)
    assert result["items"] is None
    assert result["counts"] == {"assigned": 3}
    assert cli.count("--assigned-to", bob) == 3
    assert cli.owners("A1") == [ann]
    ops = cli.json("operations", "list")["items"]
    assert ops[0]["parameters"]["filter"] == f"not assigned to {bob} (who: no-one)"

    assert cli.fails("assign", "A1", "--unassigned", "--to", bob) == (
        "error: name accounts or a filter, not both"
    )
    assert "name accounts or a filter" in cli.fails("assign", "--to", bob)


def test_dry_run_writes_nothing_and_the_fingerprint_guards_the_apply(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    for ref in ("A1", "A2", "A3"):
        cli.account(ref, "--mrr", "1000")
    cli.ok("assign", "A1", "--to", ann)
    before = (cli.json("operations", "list"), cli.json("csms"))

    preview = cli.json("assign", "--unassigned", "--to", bob, "--dry-run")
    assert (preview["dry_run"], preview["operation_id"], preview["opened"]) == (True, None, 2)
    assert [s["external_id"] for s in preview["sample"]] == ["A2", "A3"]
    assert (cli.json("operations", "list"), cli.json("csms")) == before
    text = cli.ok("assign", "--unassigned", "--to", bob, "--dry-run").stdout
    assert f"fingerprint: {preview['fingerprint']}" in text
    assert "dry run: nothing was written" in text
    assert (cli.json("operations", "list"), cli.json("csms")) == before

    cli.ok("assign", "A3", "--to", ann)  # the set changes after the preview
    line = cli.fails("assign", "--unassigned", "--to", bob, "--fingerprint", preview["fingerprint"])
    assert "no longer those previewed" in line
    assert cli.count("--assigned-to", bob) == 0

    fresh = cli.json("assign", "--unassigned", "--to", bob, "--dry-run")
    applied = cli.json("assign", "--unassigned", "--to", bob, "--fingerprint", fresh["fingerprint"])
    assert (applied["dry_run"], applied["opened"]) == (False, 1)
    assert applied["fingerprint"] == fresh["fingerprint"]
    assert cli.owners("A2") == [bob]


def test_unassign_removes_one_csm_only(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.account("A1")
    cli.account("A2")
    cli.ok("assign", "A1", "A2", "--to", ann, "--to", bob)
    cli.ok("unassign", "A2", "--from", bob)

    result = cli.json("unassign", "A1", "A2", "NOPE", "--from", bob, "--reason", "rebalance")
    assert _outcomes(result) == [
        ("A1", bob, "unassigned"),
        ("A2", bob, "not_assigned"),
        ("NOPE", bob, "not_found"),
    ]
    assert (cli.owners("A1"), cli.owners("A2")) == ([ann], [ann])
    ended = [h for h in cli.json("history", "A1")["items"] if h["ended_at"]]
    assert [(h["user"], h["reason"]) for h in ended] == [(bob, "")]
    by_filter = cli.json("unassign", "--assigned-to", ann, "--from", ann)
    assert by_filter["counts"] == {"unassigned": 2}
    assert cli.count("--unassigned") == 2


def test_transfer_a_filtered_part_then_the_whole_book(cli: Cli) -> None:
    ann, bob, cat = (cli.csm(f"{n}@example.com") for n in ("ann", "bob", "cat"))
    for ref in ("A1", "A2", "A3", "A4"):
        cli.account(ref)
    cli.ok("assign", "A1", "A2", "A3", "--to", ann)
    cli.ok("assign", "A3", "--to", bob)

    part = cli.json("transfer", "--from", ann, "--to", cat, "--assigned-to", bob)
    assert part["counts"] == {"transferred": 1}
    assert cli.owners("A3") == [bob, cat]
    assert cli.owners("A1") == [ann]

    by_ref = cli.json("transfer", "A2", "A4", "--from", ann, "--to", bob)
    assert _outcomes(by_ref) == [("A2", bob, "transferred"), ("A4", bob, "not_assigned")]

    whole = cli.json("transfer", "--from", ann, "--to", cat)
    assert whole["counts"] == {"transferred": 1}
    assert (whole["closed"], whole["opened"]) == (1, 1)
    assert cli.count("--assigned-to", ann) == 0
    assert cli.owners("A1") == [cat]
    overview = {r["email"]: r["accounts"] for r in cli.json("csms")["items"]}
    assert overview == {ann: 0, bob: 2, cat: 2}
    assert "same user" in cli.fails("transfer", "--from", ann, "--to", ann)


def test_csms_json_shape_counts_co_owners_fully_and_the_team_once(cli: Cli) -> None:
    ann, bob = cli.csm("ann@example.com"), cli.csm("bob@example.com")
    cli.ok("users", "add", "viewer@example.com")
    cli.account("A1", "--mrr", "5000")
    cli.account("A2", "--mrr", "1234.5")
    cli.account("A3", "--mrr", "10")
    cli.ok("assign", "A1", "A2", "--to", ann)
    cli.ok("assign", "A1", "--to", bob)

    overview = cli.json("csms")
    assert overview["items"] == [
        {"email": ann, "name": "", "accounts": 2, "mrr": "6234.50"},
        {"email": bob, "name": "", "accounts": 1, "mrr": "5000.00"},
    ]
    assert (overview["total"], overview["team_accounts"], overview["team_mrr"]) == (
        2,
        2,
        "6234.50",
    )
    assert overview["unassigned_accounts"] == 1
    assert "distinct" in overview["counting"]
    text = cli.ok("csms").stdout
    assert "counting: each co-owner gets full credit" in text
    assert "unassigned: 1" in text


def test_refs_may_come_from_stdin_or_a_file(cli: Cli, tmp_path: pytest.TempPathFactory) -> None:
    ann = cli.csm("ann@example.com")
    for ref in ("A1", "A2", "A3"):
        cli.account(ref)
    result = cli.json("assign", "A3", "--ids-from", "-", "--to", ann, input="A1\n\n A2 \n")
    assert [i["ref"] for i in result["items"]] == ["A3", "A1", "A2"]
    listing = tmp_path / "ids.txt"  # type: ignore[operator]
    listing.write_text("A1\nA9\n")
    again = cli.json("unassign", "--ids-from", str(listing), "--from", ann)
    assert _outcomes(again) == [("A1", ann, "unassigned"), ("A9", ann, "not_found")]
    assert "--ids-from" in cli.fails("assign", "--ids-from", str(listing) + ".x", "--to", ann)


def test_the_actor_is_as_then_bookwise_actor_then_the_cli_user(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bookwise.config import get_settings

    ann, boss = cli.csm("ann@example.com"), cli.csm("boss@example.com")
    for ref in ("A1", "A2", "A3", "A4"):
        cli.account(ref)
    cli.ok("assign", "A1", "--to", ann)
    cli.ok("assign", "A2", "--to", ann, "--as", boss)
    cli.ok("--as", boss, "assign", "A3", "--to", ann)
    monkeypatch.setenv("BOOKWISE_ACTOR", boss)
    get_settings.cache_clear()
    cli.ok("assign", "A4", "--to", ann)
    actors = [op["actor"] for op in reversed(cli.json("operations", "list")["items"])]
    assert actors == ["cli@bookwise.invalid", boss, boss, boss]
    assert cli.fails("assign", "A1", "--to", ann, "--as", "who@example.com") == (
        "error: no user with email who@example.com"
    )
    # deactivating needs an admin: the built-in CLI user, named explicitly
    cli.ok("--as", "cli@bookwise.invalid", "users", "deactivate", boss, "--keep")
    assert "inactive" in cli.fails("assign", "A1", "--to", ann)
    json.dumps(actors)


def test_writes_need_the_right_role(cli: Cli) -> None:
    ann = cli.csm("ann@example.com")
    cli.ok("users", "add", "val@example.com", "--role", "viewer")
    cli.account("A1")
    assert cli.fails("assign", "A1", "--to", ann, "--as", "val@example.com") == (
        "error: val@example.com is a viewer; this needs the admin or manager role"
    )
    # a manager may change ownership but not manage users
    cli.ok("assign", "A1", "--to", ann, "--as", ann)
    assert "needs the admin role" in cli.fails("--as", ann, "users", "add", "new@example.com")
