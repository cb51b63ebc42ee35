"""Owner columns of an account import: which headers feed owners, and how cells name users."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bookwise.db import read_session, write_session
from bookwise.importing.mapping import map_headers, parse_overrides
from tests.cli.conftest import Cli
from tests.factories import make_user
from tests.helpers import open_csms
from tests.importing.helpers import accounts_by_external_id, run_import, write_rows


def add_csm(engine: Engine, email: str, name: str = "") -> None:
    with write_session(engine) as session:
        make_user(session, email, name=name)


def owners_of(engine: Engine, external_id: str) -> list[str]:
    account = accounts_by_external_id(engine)[external_id]
    with read_session(engine) as session:
        return sorted(open_csms(session, account))


# --- defect 4: Salesforce custom owner columns ---------------------------------------------


@pytest.mark.parametrize("header", ["CSM_Email__c", "CSM__c", "Owner_Email__c", "CSM", "csm_email"])
def test_a_salesforce_custom_owner_column_feeds_the_owners(
    engine: Engine, tmp_path: Path, header: str
) -> None:
    add_csm(engine, "ana@example.com")
    path = write_rows(tmp_path / "sf.csv", f"Id,Name,{header}", ["A1,Acme,ana@example.com"])

    report, errors = run_import(engine, path)

    assert (header, "csms") in report.mapping
    assert report.ignored == []
    assert report.failed == 0, errors
    assert owners_of(engine, "A1") == ["ana@example.com"]


def test_map_names_a_custom_column_by_its_label_or_its_api_name() -> None:
    for source in ("Account_Manager__c", "Account Manager"):
        overrides = parse_overrides([f"{source}=csms"])
        mapping = map_headers(["Id", "Account_Manager__c"], declared=[], overrides=overrides)
        assert [(c.header, c.target) for c in mapping.columns][1] == ("Account_Manager__c", "csms")


def test_an_ignored_owner_like_column_is_reported_as_such(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "sf.csv", "Id,Name,Account_Manager__c,Notes", ["A1,Acme,ana@example.com,x"]
    )

    report, _ = run_import(engine, path)

    assert report.ignored == ["Account_Manager__c", "Notes"]
    assert report.ignored_owner_columns == ["Account_Manager__c"]
    assert report.as_dict()["ignored_owner_columns"] == ["Account_Manager__c"]
    assert report.as_dict()["has_owner_column"] is False


def test_a_file_with_an_owner_column_does_not_warn(engine: Engine, tmp_path: Path) -> None:
    add_csm(engine, "ana@example.com")
    path = write_rows(
        tmp_path / "sf.csv", "Id,Name,CSM Email,Account_Manager__c", ["A1,Acme,ana@example.com,x"]
    )

    report, _ = run_import(engine, path)

    # The owners come from CSM Email; the other owner-like column is still named.
    assert report.ignored_owner_columns == ["Account_Manager__c"]
    assert report.as_dict()["has_owner_column"] is True


def test_the_cli_says_prominently_that_owners_were_left_unchanged(cli: Cli, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "sf.csv", "Id,Name,Account_Manager__c", ["A1,Acme,x@example.com"])

    out = cli.ok("import", "accounts", str(path)).stdout

    assert "owners unchanged: no owner column" in out
    assert "Account_Manager__c" in out
    assert "Account_Manager__c=csms" in out  # how to fix it
    result = cli.json("import", "accounts", str(path))
    assert result["ignored_owner_columns"] == ["Account_Manager__c"]


def test_the_cli_says_nothing_about_owners_for_a_file_without_owner_like_columns(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "plain.csv", "Id,Name,Notes", ["A1,Acme,x"])

    out = cli.ok("import", "accounts", str(path)).stdout

    assert "owners unchanged: no owner column" in out
    assert "look like owners" not in out
