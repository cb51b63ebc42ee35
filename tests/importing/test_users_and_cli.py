"""``bookwise import users`` and both import commands through the real CLI."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tests.cli.conftest import Cli
from tests.importing.files import make_files as files
from tests.importing.helpers import FILES, write_rows


def test_import_users_upserts_by_email_and_reports_bad_rows(cli: Cli, tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "users.csv",
        "Email,Name,Role,CSM Seat,Active,External ID",
        [
            "ann@example.com,Ann,manager,yes,true,0055g00000OwnA1AAA",
            "bob@example.com,Bob,viewer,no,true,",
            "ANN@example.com,Ann again,admin,yes,true,",
            "not-an-email,X,viewer,no,true,",
            "cid@example.com,Cid,boss,no,true,",
        ],
    )

    result = cli.json("import", "users", str(path))

    assert (result["created"], result["failed"], result["rows_read"]) == (2, 3, 5)
    assert [(e["line"], e["column"]) for e in result["errors"]] == [
        (4, "Email"),
        (5, "Email"),
        (6, "Role"),
    ]
    assert "repeats the email of line 2" in result["errors"][0]["reason"]
    again = cli.json("import", "users", str(path))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    changed = write_rows(tmp_path / "role.csv", "email,role", ["Bob@Example.com,manager"])
    assert cli.json("import", "users", str(changed))["updated"] == 1
    listed = {u["email"]: u for u in cli.json("users", "list")["items"]}
    assert listed["bob@example.com"]["role"] == "manager"


def test_import_accounts_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad_rows.csv"
    shutil.copyfile(FILES / "bad_rows.csv", path)

    result = cli.ok("import", "accounts", str(path))

    assert "12 rows read: 3 created, 0 updated, 0 unchanged, 9 failed" in result.stdout
    assert "first errors" in result.stdout
    error_file = tmp_path / "bad_rows.csv.errors.csv"
    with error_file.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(int(r["line"]), r["column"]) for r in rows] == files.BAD_EXPECTED
    assert cli.count() == 3


def test_cli_dry_run_writes_nothing_and_shows_the_mapping(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "hubspot.csv"
    shutil.copyfile(FILES / "hubspot_companies.csv", path)

    result = cli.ok("import", "accounts", str(path), "--dry-run")

    assert "Company Domain Name" in result.stdout
    assert "domain" in result.stdout
    assert "ignored columns: Annual Revenue, Create Date" in result.stdout
    assert "dry run, nothing written" in result.stdout
    assert "failed" in result.stdout
    assert not (tmp_path / "hubspot.csv.errors.csv").exists()
    assert cli.count() == 0


def test_cli_all_or_nothing_exits_1_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    errors = tmp_path / "problems.csv"
    result = cli.run(
        "import",
        "accounts",
        str(FILES / "bad_rows.csv"),
        "--all-or-nothing",
        "--errors",
        str(errors),
        "--format",
        "json",
    )

    assert result.exit_code == 1
    assert json.loads(result.stdout)["written"] is False
    assert len(errors.read_text().splitlines()) == 10
    assert cli.count() == 0


def test_cli_encoding_error_is_one_line(cli: Cli) -> None:
    line = cli.fails("import", "accounts", str(FILES / "accounts_cp1252.csv"))
    assert "--encoding cp1252" in line
    cli.ok("import", "accounts", str(FILES / "accounts_cp1252.csv"), "--encoding", "cp1252")
    assert cli.count() == 3


def test_cli_owner_import_is_one_undoable_operation(cli: Cli, tmp_path: Path) -> None:
    cli.csm("ann@example.com")
    cli.csm("bob@example.com")
    first = write_rows(tmp_path / "a.csv", "external_id,name,csms", ["Z1,Zed,ann@example.com"])
    cli.ok("import", "accounts", str(first))
    second = write_rows(tmp_path / "b.csv", "external_id,csms", ["Z1,bob@example.com"])

    result = cli.json("import", "accounts", str(second))

    assert cli.owners("Z1") == ["bob@example.com"]
    cli.ok("operations", "undo", str(result["operation_id"]))
    assert cli.owners("Z1") == ["ann@example.com"]
