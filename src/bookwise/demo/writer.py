"""Bulk writers for the demo rows: executemany on SQLite, COPY on PostgreSQL.

Both write into the session's own transaction, so the whole demo is one commit. The rows
carry every value already in the form the column stores (timestamps as SQLAlchemy's SQLite
text format, which PostgreSQL's COPY parses too), so neither path converts per value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bookwise.db import is_sqlite

Writer = Callable[[str, Sequence[str], list[tuple[Any, ...]]], None]

# Tables whose ids the generator chose itself: PostgreSQL's sequences must catch up.
ID_TABLES = ("users", "operations", "accounts", "assignments")
LOADED_TABLES = ("users", "accounts", "assignments", "ownership_changes")
BULK_TABLES = ("accounts", "assignments", "ownership_changes")
# Only the accounts' secondary indexes get keys in random order (name, MRR, tier, stage); the
# assignment and version indexes receive ascending or per-CSM-clustered keys, which are cheap
# to maintain row by row (measured: rebuilding those too was slower on SQLite at 300k).
REBUILT_INDEX_TABLES = ("accounts",)
SQLITE_ANALYSIS_LIMIT = 2000

_SQLITE_INDEXES = """
SELECT name, sql FROM sqlite_master
WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables})
ORDER BY name
"""
# Plain indexes only: those behind primary-key and unique constraints stay in place.
_POSTGRES_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename IN ({tables})
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
ORDER BY i.indexname
"""
_POSTGRES_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid::regclass::text IN ({tables})
ORDER BY c.conname
"""


def bulk_writer(session: Session) -> Writer:
    """A function that appends rows to a table inside the session's transaction."""
    if is_sqlite(session):
        return _sqlite_writer(session)
    return _postgres_writer(session)


def _sqlite_writer(session: Session) -> Writer:
    connection = session.connection()

    def write(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        connection.exec_driver_sql(sql, rows)

    return write


def _postgres_writer(session: Session) -> Writer:
    driver = session.connection().connection.driver_connection
    if driver is None:  # pragma: no cover - a live session always has one
        raise RuntimeError("no database connection")

    def write(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    return write


@contextmanager
def bulk_load(
    session: Session,
    *,
    index_tables: Sequence[str] = REBUILT_INDEX_TABLES,
    key_tables: Sequence[str] = BULK_TABLES,
) -> Iterator[None]:
    """Bulk-load without per-row upkeep of random-order indexes and (PostgreSQL) foreign keys.

    The secondary indexes of ``index_tables`` are dropped and rebuilt from their own DDL
    afterwards: building an index once is several times faster than updating it row by row
    (perf-floor.md), and a unique index is checked again as it is rebuilt. On PostgreSQL the
    foreign keys of ``key_tables`` are dropped and added back, which validates every row in
    one join instead of one trigger query per row and key. SQLite cannot switch its foreign
    keys off inside a transaction, so there they stay checked row by row. Everything happens
    in the load's transaction: a failure leaves the schema exactly as it was.
    """
    postgres = not is_sqlite(session)
    query = _POSTGRES_INDEXES if postgres else _SQLITE_INDEXES
    indexes = session.execute(text(query.format(tables=_listed(index_tables)))).all()
    keys = (
        session.execute(text(_POSTGRES_FOREIGN_KEYS.format(tables=_listed(key_tables)))).all()
        if postgres
        else []
    )
    if postgres:
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for table, name, _ in keys:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    yield
    for _, ddl in indexes:
        session.execute(text(ddl))
    for table, name, definition in keys:
        session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))


def _listed(tables: Sequence[str]) -> str:
    return ", ".join(f"'{table}'" for table in tables) or "''"


def finish_load(session: Session) -> None:
    """Move PostgreSQL's id sequences past the ids written, and refresh planner statistics."""
    sqlite = is_sqlite(session)
    if not sqlite:
        for table in ID_TABLES:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    if sqlite:
        # Sample instead of reading every index in full (PostgreSQL's ANALYZE samples anyway).
        session.execute(text(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}"))
    for table in LOADED_TABLES:
        session.execute(text(f"ANALYZE {table}"))
    if sqlite:
        session.execute(text("PRAGMA analysis_limit = 0"))
