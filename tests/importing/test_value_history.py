"""The import merge writes value history for changed fields only, set-based, or not at all."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

import bookwise.importing.accounts as importing_accounts
from bookwise.accounts.service import update_account
from bookwise.db import read_session, write_session
from bookwise.importing.accounts import import_accounts
from bookwise.models import Account, AccountValue, AuditEvent, utcnow
from tests.factories import actor, make_account
from tests.helpers import count_statements
from tests.importing.helpers import accounts_by_external_id, run_import, write_rows


def _history(engine: Engine) -> list[tuple[str, str, str | None, str | None, str]]:
    """(external id, field, value, previous, source) of every history row, in write order."""
    ids = {a.id: a.external_id or "" for a in accounts_by_external_id(engine).values()}
    with read_session(engine) as session:
        rows = session.execute(
            select(
                AccountValue.account_id,
                AccountValue.field,
                AccountValue.value,
                AccountValue.previous,
                AccountValue.source,
            ).order_by(AccountValue.id)
        ).all()
    return [(ids[a], f, v, p, s) for a, f, v, p, s in rows]


def test_a_file_writes_history_for_the_changed_fields_only(engine: Engine, tmp_path: Path) -> None:
    header = "external_id,name,health_score,region,parent_external_id"
    run_import(engine, write_rows(tmp_path / "a.csv", header, ["P,Parent,70,EMEA,", "C,Child,,,P"]))
    first = _history(engine)
    assert sorted(first) == sorted(
        [
            ("P", "health_score", "70", None, "import"),
            ("P", "region", "EMEA", None, "import"),
            ("C", "parent_id", str(accounts_by_external_id(engine)["P"].id), None, "import"),
        ]
    )

    lines = ["P,Parent Renamed,35,EMEA,", "C,Child,,APAC,"]
    report, _ = run_import(engine, write_rows(tmp_path / "b.csv", header, lines))

    assert report.updated == 2
    parent_id = str(accounts_by_external_id(engine)["P"].id)
    assert sorted(_history(engine)[len(first) :]) == [
        ("C", "parent_id", None, parent_id, "import"),
        ("C", "region", "APAC", None, "import"),
        ("P", "health_score", "35", "70", "import"),
    ]
    with read_session(engine) as session:
        import_ids = set(session.scalars(select(AccountValue.import_id)))
        audited = session.scalars(select(AuditEvent.details).where(AuditEvent.action.like("acc%")))
        assert import_ids <= {d.get("import_id") for d in audited}


def test_an_unchanged_file_and_a_file_without_history_fields_write_none(
    engine: Engine, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "a.csv", "external_id,name,mrr", ["A,Alpha,10", "B,Beta,"])
    run_import(engine, source)
    before = _history(engine)

    run_import(engine, source)
    run_import(engine, write_rows(tmp_path / "b.csv", "external_id,name", ["A,Alpha 2", "B,B"]))

    assert _history(engine) == before == [("A", "mrr", "1000", None, "import")]


def test_an_import_that_writes_nothing_leaves_no_history(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, write_rows(tmp_path / "a.csv", "external_id,name,mrr", ["A,Alpha,10"]))
    before = _history(engine)
    changed = write_rows(tmp_path / "b.csv", "external_id,name,mrr", ["A,Alpha,20", "B,Beta,x"])

    refused, _ = run_import(engine, changed, all_or_nothing=True)
    previewed, _ = run_import(engine, changed, dry_run=True)

    assert (refused.written, previewed.written) == (False, False)
    assert _history(engine) == before


def _file(path: Path, rows: int, mrr: int) -> Path:
    lines = [f"R{i},Row {i},{mrr + i},{i % 100},T{i % 3}" for i in range(rows)]
    return write_rows(path, "external_id,name,mrr,health_score,region", lines)


def test_history_statements_do_not_grow_with_rows(engine: Engine, tmp_path: Path) -> None:
    run_import(engine, _file(tmp_path / "a.csv", 1000, 1))
    run_import(engine, _file(tmp_path / "b.csv", 10, 1))

    with count_statements(engine) as few:
        run_import(engine, _file(tmp_path / "c.csv", 10, 5))
    with count_statements(engine) as many:
        run_import(engine, _file(tmp_path / "d.csv", 1000, 9))

    assert few.count == many.count
    with read_session(engine) as session:
        changes = session.scalar(
            select(func.count()).where(
                AccountValue.field == "mrr", AccountValue.previous.is_not(None)
            )
        )
    assert changes == 10 + 1000  # d.csv changed every mrr, c.csv the first ten before it


def test_an_edit_committed_after_the_import_began_does_not_invert_its_history(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import took its instant before an edit of one of its accounts committed (or its
    clock is behind the editor's): the history it closes still ends after it started."""
    with write_session(engine) as session:
        make_account(session, "Acme", external_id="ACME", mrr=100)
    began = utcnow() - timedelta(seconds=5)
    with write_session(engine) as session:
        acme = session.scalars(select(Account).where(Account.external_id == "ACME")).one()
        update_account(session, account=acme, changes={"mrr": "200"}, actor=actor(session))
    monkeypatch.setattr(importing_accounts, "database_now", lambda session: began)

    report, _ = run_import(
        engine, write_rows(tmp_path / "a.csv", "external_id,name,mrr", ["ACME,Acme,300"])
    )

    assert report.updated == 1
    _assert_continuous(engine, "ACME", "mrr", ["10000", "20000", "30000"])


def _assert_continuous(engine: Engine, external_id: str, field: str, values: list[str]) -> None:
    """The field's history holds ``values`` in order, each row starting where the last ended."""
    account = accounts_by_external_id(engine)[external_id]
    with read_session(engine) as session:
        rows = session.execute(
            select(AccountValue.value, AccountValue.valid_from, AccountValue.valid_to)
            .where(AccountValue.account_id == account.id, AccountValue.field == field)
            .order_by(AccountValue.valid_from, AccountValue.id)
        ).all()
    assert [r.value for r in rows] == values
    assert rows[-1].valid_to is None
    for before, after in pairwise(rows):
        assert before.valid_from <= before.valid_to == after.valid_from


def test_an_edit_committed_while_the_import_stages_its_file(engine: Engine, tmp_path: Path) -> None:
    """Two sessions: the import (A) pauses after staging its file; another user's edit of
    one of its accounts (B) commits meanwhile; A goes on and its history follows B's."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers are serial (BEGIN IMMEDIATE): no edit can commit meanwhile")
    with write_session(engine) as session:
        make_account(session, "Acme", external_id="ACME", mrr=100)

    def edit_meanwhile(rows_read: int) -> None:  # A's progress hook, after staging
        with write_session(engine) as other:
            acme = other.scalars(select(Account).where(Account.external_id == "ACME")).one()
            update_account(other, account=acme, changes={"mrr": "200"}, actor=actor(other))

    source = write_rows(tmp_path / "a.csv", "external_id,name,mrr", ["ACME,Acme,300"])
    with write_session(engine) as session:
        report = import_accounts(
            session, path=source, actor=actor(session), progress=edit_meanwhile
        )

    assert report.updated == 1
    _assert_continuous(engine, "ACME", "mrr", ["10000", "20000", "30000"])


def test_history_statements_read_the_open_rows_by_index(engine: Engine, tmp_path: Path) -> None:
    """The close finds the touched accounts' open rows through the open-rows index, not a
    scan of every open row, and the insert walks the accounts in id order without a sort
    (SQLite's plans; PostgreSQL's follow its statistics)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans; PostgreSQL plans from statistics")
    run_import(engine, _file(tmp_path / "a.csv", 1000, 1))
    written: list[tuple[str, Any]] = []

    def keep(_c: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if statement.startswith(("INSERT INTO account_values", "UPDATE account_values")):
            written.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run_import(engine, _file(tmp_path / "b.csv", 10, 5))
    finally:
        event.remove(engine, "before_cursor_execute", keep)

    assert [s.split()[0] for s, _ in written] == ["UPDATE", "INSERT", "INSERT"]
    with engine.connect() as connection:
        for statement, parameters in written:
            plan = [
                row[3]
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            ]
            assert not [step for step in plan if step.startswith("SCAN account_values")], plan
            assert not [step for step in plan if "TEMP B-TREE" in step], plan
