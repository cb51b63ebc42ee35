"""``bookwise export`` through the real CLI: to a file and to stdout."""

from __future__ import annotations

from pathlib import Path

from bookwise.csvsafe import EXPORT_MARKER
from tests.cli.conftest import Cli
from tests.exporting.helpers import parse_export


def _book(cli: Cli) -> None:
    cli.csm("x@example.com")
    cli.csm("y@example.com")
    cli.ok("attributes", "add", "plan", "--type", "text")
    cli.account("P1", "--mrr", "5000", "--attr", "plan=-gold", "--region", "@emea")
    cli.account("C1", "--parent", "P1", "--nps", "-20", "--renewal-date", "2027-01-31")
    cli.account("Z1")
    cli.ok("assign", "P1", "--to", "x@example.com")
    cli.ok("assign", "Z1", "--to", "y@example.com")


def test_export_accounts_to_stdout_is_utf8_crlf_with_the_marker(cli: Cli) -> None:
    _book(cli)
    cli.ok("accounts", "add", "Zürich =1", "--external-id", "Ü1")
    result = cli.ok("export", "accounts", "--sort", "external_id")
    raw = result.stdout_bytes
    assert raw.startswith(EXPORT_MARKER.encode() + b"\r\n")
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 6
    assert b"\n" not in raw.replace(b"\r\n", b"")
    rows = parse_export(raw.decode("utf-8"))
    assert [r["external_id"] for r in rows] == ["C1", "P1", "Z1", "Ü1"]
    by_id = {r["external_id"]: r for r in rows}
    assert by_id["P1"]["mrr"] == "5000.00"
    assert by_id["P1"]["custom.plan"] == "'-gold"
    assert by_id["P1"]["region"] == "'@emea"
    assert by_id["P1"]["csms"] == "x@example.com"
    assert by_id["C1"]["parent_external_id"] == "P1"
    assert by_id["C1"]["nps"] == "-20"
    assert by_id["Ü1"]["name"] == "Zürich =1"


def test_export_accounts_with_filters_matches_accounts_list(cli: Cli, tmp_path: Path) -> None:
    _book(cli)
    target = tmp_path / "book.csv"
    for filters in (
        ["--assigned-to", "x@example.com"],
        ["--unassigned"],
        ["--not-assigned-to", "x@example.com", "--who", "others"],
        ["--sort", "-mrr"],
    ):
        result = cli.ok("export", "accounts", *filters, "--output", str(target))
        rows = parse_export(target.read_bytes().decode("utf-8"))
        listed = cli.json("accounts", "list", *filters)["items"]
        assert [r["external_id"] for r in rows] == [i["external_id"] for i in listed]
        assert result.stdout.strip() == f"exported {len(rows)} accounts to {target}"


def test_export_users_and_history(cli: Cli, tmp_path: Path) -> None:
    _book(cli)
    users = parse_export(cli.ok("export", "users").stdout_bytes.decode())
    assert [u["email"] for u in users] == ["x@example.com", "y@example.com"]
    cli.ok("transfer", "--from", "x@example.com", "--to", "y@example.com", "P1")
    timeline = parse_export(cli.ok("export", "history", "P1").stdout_bytes.decode())
    assert [(r["user"], r["ended_at"] != "") for r in timeline] == [
        ("x@example.com", True),
        ("y@example.com", False),
    ]
    target = tmp_path / "book.csv"
    cli.ok("export", "history", "--csm", "y@example.com", "--output", str(target))
    book = parse_export(target.read_bytes().decode("utf-8"))
    assert sorted(r["account_external_id"] for r in book) == ["P1", "Z1"]


def test_export_errors_are_one_line_and_leave_no_file(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "out.csv"
    assert "cannot sort by" in cli.fails("export", "accounts", "--sort", "nope", "-o", str(target))
    assert "no-one" not in cli.fails("export", "accounts", "--assigned-to", "who@example.com")
    assert "either an account" in cli.fails("export", "history")
    assert "does not exist" in cli.fails("export", "users", "-o", str(out / "no/x.csv"))
    assert list(out.iterdir()) == []
