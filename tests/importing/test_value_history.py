"""The import merge writes value history for changed fields only, set-based, or not at all."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from bookwise.db import read_session
from bookwise.models import AccountValue, AuditEvent
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
