"""Owner columns of an account import: which headers feed owners, and how cells name users."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bookwise.db import read_session, write_session
from bookwise.importing.mapping import map_headers, parse_overrides
from bookwise.users.service import build_user, cli_user, create_user
from tests.cli.conftest import Cli
from tests.factories import make_user
from tests.helpers import count_statements, open_csms
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


# --- defect 10: owners named by their unique full name ---------------------------------------


def test_an_owner_cell_may_hold_a_full_name(engine: Engine, tmp_path: Path) -> None:
    add_csm(engine, "ana@example.com", name="Ana Silva")
    add_csm(engine, "bob@example.com", name="Bob Stone")
    path = write_rows(
        tmp_path / "hubspot.csv",
        "Record ID,Company name,Company owner",
        ["1,Acme,Ana Silva", "2,Beta,ana  SILVA; bob@example.com", "3,Gamma,"],
    )

    report, errors = run_import(engine, path)

    assert report.failed == 0, errors
    assert owners_of(engine, "1") == ["ana@example.com"]
    assert owners_of(engine, "2") == ["ana@example.com", "bob@example.com"]
    assert owners_of(engine, "3") == []


def test_an_ambiguous_or_unknown_name_fails_its_row_only(engine: Engine, tmp_path: Path) -> None:
    add_csm(engine, "ana.b@example.com", name="Ana Silva")
    add_csm(engine, "ana.a@example.com", name="Ana Silva")
    add_csm(engine, "bob@example.com", name="Bob Stone")
    path = write_rows(
        tmp_path / "hubspot.csv",
        "Record ID,Company name,Company owner",
        ["1,Acme,Bob Stone", "2,Beta,ANA silva", "3,Gamma,Bob Stone; Nobody Here", "4,Delta,bob"],
    )

    report, _ = run_import(engine, path)

    assert (report.created, report.failed) == (1, 3)
    assert [(e.line, e.column, e.value, e.reason) for e in report.errors] == [
        (
            3,
            "Company owner",
            "ANA silva",
            "'ANA silva' is the name of several users (ana.a@example.com, ana.b@example.com); "
            "use an email",
        ),
        (4, "Company owner", "Nobody Here", "no user with email or name 'Nobody Here'"),
        (5, "Company owner", "bob", "no user with email or name 'bob'"),
    ]
    assert owners_of(engine, "1") == ["bob@example.com"]


def test_an_unknown_email_is_quoted_as_written(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.csv", "external_id,name,csms", ["A1,Acme,Who@Example.com"])

    report, _ = run_import(engine, path)

    assert [(e.value, e.reason) for e in report.errors] == [
        ("Who@Example.com", "no user with email Who@Example.com")
    ]


def test_owner_names_resolve_in_a_fixed_number_of_statements(
    engine: Engine, tmp_path: Path
) -> None:
    add_csm(engine, "ana@example.com", name="Ana Silva")
    add_csm(engine, "a1@example.com", name="Twin Name")
    add_csm(engine, "a2@example.com", name="Twin Name")

    def file(name: str, count: int) -> Path:
        rows = [
            f"{name}{n},Acme {n},{'Twin Name' if n % 7 == 0 else 'Ana Silva'}" for n in range(count)
        ]
        return write_rows(tmp_path / f"{name}.csv", "external_id,name,csms", rows)

    small, large = file("S", 10), file("L", 1000)
    with count_statements(engine) as few:
        assert run_import(engine, small)[0].failed == 2
    with count_statements(engine) as many:
        assert run_import(engine, large)[0].failed == 143

    assert few.count == many.count


# --- defect 5: Salesforce user ids in either form ------------------------------------------


def add_sf_user(engine: Engine, email: str, external_id: str) -> None:
    with write_session(engine) as session:
        data = build_user(email=email, csm_seat=True, role="manager", external_id=external_id)
        create_user(session, data=data, actor=cli_user(session))


@pytest.mark.parametrize("stored", ["005Hs00000ABCde", "005Hs00000ABCdeIAH"])
@pytest.mark.parametrize("cell", ["005Hs00000ABCde", "005Hs00000ABCdeIAH"])
def test_an_owner_id_matches_in_either_form(
    engine: Engine, tmp_path: Path, stored: str, cell: str
) -> None:
    add_sf_user(engine, "ana@example.com", stored)
    path = write_rows(tmp_path / "sf.csv", "Id,Name,OwnerId", [f"001Hs00000XYZab,Acme,{cell}"])

    report, errors = run_import(engine, path)

    assert report.failed == 0, errors
    assert owners_of(engine, "001Hs00000XYZabIAH") == ["ana@example.com"]


def test_an_unknown_owner_id_is_quoted_as_written(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "sf.csv", "Id,Name,OwnerId", ["001Hs00000XYZab,Acme,005Hs00000ZZZzz"]
    )

    report, _ = run_import(engine, path)

    assert [(e.column, e.value, e.reason) for e in report.errors] == [
        ("OwnerId", "005Hs00000ZZZzz", "no user with external id 005Hs00000ZZZzz")
    ]


def test_imported_users_store_salesforce_ids_in_18_characters(cli: Cli, tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "users.csv", "email,external_id", ["ana@example.com,005Hs00000ABCde"]
    )

    assert cli.json("import", "users", str(path))["created"] == 1
    again = cli.json("import", "users", str(path))

    assert (again["unchanged"], again["updated"]) == (1, 0)
    listed = cli.json("users", "list")["items"]
    assert [u["external_id"] for u in listed if u["email"] == "ana@example.com"] == [
        "005Hs00000ABCdeIAH"
    ]
