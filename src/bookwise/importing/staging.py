"""Writing one batch of parsed rows into the staging tables: executemany or COPY."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, Table, delete
from sqlalchemy.orm import Session

from bookwise.accounts.schemas import VALUE_FIELDS
from bookwise.db import is_sqlite
from bookwise.importing.mapping import FileMapping
from bookwise.importing.values import ParsedRow, Problem, RecordParser, ValueRules
from bookwise.models import ImportOwner, ImportProblem, ImportRow

ROW_COLUMNS = (
    "import_id",
    "line",
    "external_id",
    "name",
    "name_fold",
    *VALUE_FIELDS,
    "parent_ref",
    "custom",
    "has_owners",
    "node_key",
    "moved",
    "failed",
)
OWNER_COLUMNS = ("import_id", "line", "position", "ref", "by_email", "written")
PROBLEM_COLUMNS = ("import_id", "seq", "line", "column", "value", "reason")


_LINE, _NODE = ROW_COLUMNS.index("line"), ROW_COLUMNS.index("node_key")


def row_parser(mapping: FileMapping, rules: ValueRules, *, import_id: int) -> RecordParser:
    """The parser whose rows :func:`stage_batch` writes."""
    fixed = {"import_id": import_id, "has_owners": False, "moved": False, "failed": False}
    return RecordParser(mapping, rules, slots=ROW_COLUMNS, fixed=fixed)


def table_of(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def stage_batch(
    session: Session,
    *,
    import_id: int,
    rows: Sequence[ParsedRow],
    problems: Sequence[Problem],
    first_seq: int,
) -> None:
    """One write per table for the whole batch (tables with nothing to write are skipped).

    ``rows`` hold their values in :data:`ROW_COLUMNS` order (see :func:`row_parser`).
    """
    staged = [row.values for row in rows]
    for values in staged:
        values[_NODE] = -values[_LINE]  # a new row's key until the merge finds its account
    owners = [
        (import_id, row.values[_LINE], position, ref, by_email, written)
        for row in rows
        for position, (ref, by_email, written) in enumerate(row.owners)
    ]
    found = [
        (import_id, first_seq + n, p.line, p.column, p.value, p.reason)
        for n, p in enumerate(problems)
    ]
    for model, columns, data in (
        (ImportRow, ROW_COLUMNS, staged),
        (ImportOwner, OWNER_COLUMNS, owners),
        (ImportProblem, PROBLEM_COLUMNS, found),
    ):
        if data:
            _write(session, table_of(model), columns, data)


def _write(
    session: Session, table: Table, columns: Sequence[str], data: Sequence[Sequence[Any]]
) -> None:
    if is_sqlite(session):
        # The driver's executemany with the columns' own bind conversions (dates, JSON):
        # SQLAlchemy's per-row parameter processing cost more than the INSERT itself.
        connection = session.connection()
        # sqlite3 stores a bool as the 0 or 1 that Boolean's processor would make.
        convert = [
            (i, processor)
            for i, c in enumerate(columns)
            if not isinstance(table.c[c].type, Boolean)
            and (processor := table.c[c].type._cached_bind_processor(connection.dialect))
        ]
        if convert:
            data = [_converted(row, convert) for row in data]
        marks = ", ".join("?" for _ in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", data)
        return
    # PostgreSQL: COPY is several times faster than a multi-row INSERT and keeps memory flat.
    driver = session.connection().connection.driver_connection
    assert driver is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in data:
            copy.write_row(row)


def _converted(row: Sequence[Any], convert: list[tuple[int, Any]]) -> tuple[Any, ...]:
    values = list(row)
    for i, processor in convert:
        if values[i] is not None:
            values[i] = processor(values[i])
    return tuple(values)


def clear_staging(session: Session, import_id: int) -> None:
    """Delete the import's scratch rows."""
    for model in (ImportRow, ImportOwner, ImportProblem):
        table = table_of(model)
        session.execute(delete(table).where(table.c.import_id == import_id))
