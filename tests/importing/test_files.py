"""Real files: Salesforce and HubSpot exports, encodings, delimiters, planted bad rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bookwise.accounts.service import declare_attribute
from bookwise.db import read_session, write_session
from bookwise.errors import InvalidInput
from bookwise.users.service import build_user, cli_user, create_user
from tests.helpers import open_csms, table_counts
from tests.importing.files import make_files as files
from tests.importing.helpers import FILES, accounts_by_external_id, audit_count, run_import


def add_user(engine: Engine, email: str, external_id: str | None = None) -> None:
    with write_session(engine) as session:
        data = build_user(
            email=email, role="manager", csm_seat=True, active=True, external_id=external_id
        )
        create_user(session, data=data, actor=cli_user(session))


def test_the_generated_files_are_the_committed_ones(tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in FILES.glob("*.csv")}
    files.main()
    assert {p.name: p.read_bytes() for p in FILES.glob("*.csv")} == before


def test_salesforce_export(engine: Engine) -> None:
    add_user(engine, "owner.one@example.com", files.sf18(files.OWNER_1))
    add_user(engine, "owner.two@example.com", files.sf18(files.OWNER_2))
    with write_session(engine) as session:
        declare_attribute(session, name="segment", type="text", actor=cli_user(session))

    report, _errors = run_import(engine, FILES / "salesforce_accounts.csv")

    assert (report.created, report.updated, report.unchanged, report.failed) == (4, 0, 0, 0)
    assert report.encoding == "utf-8-sig"
    assert report.ignored == ["Description"]
    assert ("MRR__c", "mrr") in report.mapping
    assert (
        "Segment__c",
        "custom.segment",
    ) in report.mapping
    accounts = accounts_by_external_id(engine)
    parent = accounts[files.sf18(files.PARENT)]
    child = accounts[files.sf18(files.CHILD_1)]
    child_2 = accounts[files.sf18(files.CHILD_2)]  # a 15-character Id, stored in 18-char form
    grandchild = accounts[files.sf18(files.GRANDCHILD)]
    assert child.name == "Zürich Stadtwerke, AG"
    assert grandchild.name == 'Grandchild "Quoted" Ltd'
    assert (child.parent_id, child_2.parent_id, grandchild.parent_id) == (
        parent.id,
        parent.id,
        child.id,
    )
    assert (parent.depth, child.depth, grandchild.depth) == (0, 1, 2)
    assert child.mrr == 179719
    assert child.health_score == 85
    assert child.tier == 1
    assert child.lifecycle_stage == "onboarding"
    assert child.renewal_date == date(2027, 3, 31)
    assert child.custom == {"segment": "Enterprise"}
    assert child.domain == "zurich.example"
    with read_session(engine) as session:
        assert open_csms(session, child) == {"owner.one@example.com"}
        assert open_csms(session, parent) == {"owner.two@example.com"}
        history = table_counts(session)
    audits = audit_count(engine)

    again, _ = run_import(engine, FILES / "salesforce_accounts.csv")

    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 4, 0)
    assert again.operation_id is None
    with read_session(engine) as session:
        assert table_counts(session) == history
    assert audit_count(engine) == audits


def test_hubspot_export(engine: Engine) -> None:
    add_user(engine, "ann@example.com")
    add_user(engine, "bob@example.com")

    report, _ = run_import(engine, FILES / "hubspot_companies.csv")

    assert (report.created, report.failed) == (3, 0)
    assert set(report.ignored) == {"Annual Revenue", "Create Date"}
    accounts = accounts_by_external_id(engine)
    assert accounts["9001"].parent_id == accounts["9000"].id
    assert accounts["9000"].domain == "acme.example"
    assert accounts["9002"].lifecycle_stage == "lead"
    with read_session(engine) as session:
        assert open_csms(session, accounts["9000"]) == {"ann@example.com", "bob@example.com"}


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("accounts_utf8.csv", "utf-8"),
        ("accounts_utf16.csv", "utf-16"),
        ("accounts_utf16be.csv", "utf-16"),
        ("accounts_semicolon.csv", "utf-8"),
    ],
)
def test_encodings_and_delimiters(engine: Engine, name: str, encoding: str) -> None:
    report, _ = run_import(engine, FILES / name)

    assert (report.created, report.failed, report.encoding) == (3, 0, encoding)
    names = {k: a.name for k, a in accounts_by_external_id(engine).items()}
    assert names == {r[0]: r[1] for r in files.OWN_ROWS}
    assert names["E1"].encode() == "Zürich Stadtwerke".encode()


def test_cp1252_needs_the_encoding_and_is_never_guessed(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as refused:
        run_import(engine, FILES / "accounts_cp1252.csv")
    assert "line 2" in refused.value.message
    assert "--encoding cp1252" in refused.value.message
    assert accounts_by_external_id(engine) == {}

    report, _ = run_import(engine, FILES / "accounts_cp1252.csv", encoding="cp1252")

    assert report.created == 3
    names = {k: a.name for k, a in accounts_by_external_id(engine).items()}
    assert names == {r[0]: r[1] for r in files.OWN_ROWS}


def test_planted_bad_rows_are_each_reported_and_good_rows_kept(engine: Engine) -> None:
    report, errors = run_import(engine, FILES / "bad_rows.csv")

    assert [(e.line, e.column) for e in report.errors] == files.BAD_EXPECTED
    assert (report.rows_read, report.created, report.failed) == (12, 3, 9)
    assert report.created + report.updated + report.unchanged + report.failed == report.rows_read
    assert len(errors.strip().splitlines()) == 1 + 9
    assert errors.startswith("line,column,value,reason")
    accounts = accounts_by_external_id(engine)
    assert set(accounts) == {"B1", "B3", "B12"}
    assert accounts["B3"].name == "Multi\nline\nname"
    assert accounts["B3"].mrr == 100050
    assert accounts["B12"].parent_id == accounts["B1"].id
    assert accounts["B12"].tier == 2


def test_all_or_nothing_writes_nothing_when_a_row_fails(engine: Engine) -> None:
    report, _ = run_import(engine, FILES / "bad_rows.csv", all_or_nothing=True)

    assert not report.written
    assert report.failed == 9
    assert accounts_by_external_id(engine) == {}


def test_dry_run_counts_and_writes_nothing(engine: Engine) -> None:
    report, _ = run_import(engine, FILES / "bad_rows.csv", dry_run=True)

    assert (report.created, report.failed, report.written) == (3, 9, False)
    assert accounts_by_external_id(engine) == {}
    with read_session(engine) as session:
        assert table_counts(session)["operations"] == 0


def test_cycles_are_refused_with_their_rows(engine: Engine) -> None:
    report, _ = run_import(engine, FILES / "cycle.csv")

    failed = {(e.line, e.reason) for e in report.errors}
    assert {line for line, _ in failed} == {2, 3, 4, 5}
    assert all("cycle" in reason for _, reason in failed)
    assert set(accounts_by_external_id(engine)) == {"K5"}


def test_a_cycle_through_existing_accounts_is_refused(engine: Engine, tmp_path: Path) -> None:
    first = tmp_path / "tree.csv"
    first.write_text("external_id,name,parent_external_id\nT1,Top,\nT2,Mid,T1\nT3,Low,T2\n")
    run_import(engine, first)
    move = tmp_path / "move.csv"
    move.write_text("external_id,parent_external_id\nT1,T3\n")

    report, _ = run_import(engine, move)

    assert [(e.line, e.column) for e in report.errors] == [(2, "parent_external_id")]
    assert accounts_by_external_id(engine)["T1"].parent_id is None


def test_a_repeated_external_id_is_an_error_where_it_repeats(engine: Engine) -> None:
    report, _ = run_import(engine, FILES / "repeated_id.csv")

    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "repeats the external id of line 2"),
        (5, "repeats the external id of line 2"),
    ]
    assert accounts_by_external_id(engine)["R1"].name == "First"
