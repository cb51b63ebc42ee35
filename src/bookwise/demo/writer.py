"""Bulk loading for the demo rows: executemany on SQLite, COPY on PostgreSQL, one transaction.

The rows carry every value already in the form the column stores (timestamps in
SQLAlchemy's SQLite text format, which PostgreSQL's COPY parses too), so neither path
converts per value. Per-row work that a single check at the end can replace is deferred:
random-order indexes (rebuilt), PostgreSQL foreign keys (re-added, which validates them),
SQLite foreign keys and CHECK constraints (verified with one pass per table before the
commit), and the triggers that keep the overview's counters (off during the load; the
caller recounts once at the end). Any failure rolls the whole load back, schema changes
included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CheckConstraint, Engine, Table, text
from sqlalchemy.orm import Session

from bookwise.db import WRITE_OPTION, is_sqlite, write_session
from bookwise.models import Base

Writer = Callable[[str, Sequence[str], list[tuple[Any, ...]]], None]

# Tables whose ids the generator chose itself: PostgreSQL's sequences must catch up.
ID_TABLES = ("users", "operations", "accounts", "assignments")
LOADED_TABLES = ("users", "accounts", "assignments", "ownership_changes")
BULK_TABLES = ("accounts", "assignments", "ownership_changes")
# Measured at 1M, interleaved: rebuilding the indexes of all three tables beats keeping the
# assignment and version indexes (whose keys arrive in order): SQLite 52 s against 56 s,
# PostgreSQL 45 s against 53 s.
REBUILT_INDEX_TABLES = BULK_TABLES
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
_SQLITE_TRIGGERS = """
SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({tables})
ORDER BY name
"""
_POSTGRES_TRIGGERS = """
SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger t
WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgrelid::regclass::text IN ({tables})
ORDER BY t.tgname
"""
_POSTGRES_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
WHERE c.contype = 'f' AND c.conrelid::regclass::text IN ({tables})
ORDER BY c.conname
"""


@contextmanager
def load_session(engine: Engine) -> Iterator[Session]:
    """``write_session``, except that SQLite checks foreign keys once after the load.

    SQLite checks every foreign key of every inserted row (five per assignment) and can only
    switch that off outside a transaction, so for the load the connection's foreign keys are
    off and ``PRAGMA foreign_key_check`` verifies the loaded tables before the commit (one
    pass each instead of several lookups per row). Other connections are unaffected, and
    the write lock (BEGIN IMMEDIATE) keeps them out until the commit.
    """
    if engine.dialect.name != "sqlite":
        with write_session(engine) as session:
            yield session
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if driver is None:  # pragma: no cover - a live connection always has one
            raise RuntimeError("no database connection")
        driver.execute("PRAGMA foreign_keys = OFF")  # before BEGIN, or it is ignored
        try:
            writing = connection.execution_options(**{WRITE_OPTION: True})
            with Session(bind=writing, expire_on_commit=False) as session:
                try:
                    yield session
                    verify_foreign_keys(session, BULK_TABLES)
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            driver.execute("PRAGMA foreign_keys = ON")


def verify_foreign_keys(session: Session, tables: Sequence[str]) -> None:
    """Raise if a row of ``tables`` points at a row that does not exist (SQLite)."""
    for table in tables:
        orphans = session.execute(text(f"PRAGMA foreign_key_check({table})")).all()
        if orphans:
            raise RuntimeError(
                f"demo data: {len(orphans)} rows of {table} break a foreign key "
                f"(first: {tuple(orphans[0])})"
            )


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
    """Bulk-load without the per-row costs that a check once at the end replaces.

    * The secondary indexes of ``index_tables`` are dropped and rebuilt from their own DDL:
      building an index once is several times faster than updating it row by row; a unique
      index is checked again as it is rebuilt.
    * PostgreSQL: the foreign keys of ``key_tables`` are dropped and added back, which
      validates every row in one join instead of one trigger query per row and key. (On
      SQLite, ``load_session`` does the equivalent.)
    * SQLite: CHECK constraints are skipped while loading and verified afterwards with one
      scan per table, because SQLite evaluates ``col IN (…)`` in a CHECK by building a
      temporary index for every row (measured: 12 µs instead of 5 µs per assignment row).

    * The counter triggers of the loaded tables (migration 0008) are switched off: with the
      indexes gone, each of their look-ups would scan the table. The caller recounts the
      counters once after the load (``assignments.counters.recount_book_totals``).

    Everything happens in the load's transaction: a failure leaves the schema as it was.
    """
    with _triggers_deferred(session, BULK_TABLES), indexes_deferred(session, index_tables):
        if is_sqlite(session):
            with _checks_deferred(session, BULK_TABLES):
                yield
        else:
            with _foreign_keys_deferred(session, key_tables):
                yield


@contextmanager
def indexes_deferred(
    session: Session, tables: Sequence[str], *, keep: Sequence[str] = ()
) -> Iterator[None]:
    """Drop the secondary indexes of ``tables`` but those named in ``keep``, and build them
    again from their own DDL on leaving."""
    query = _SQLITE_INDEXES if is_sqlite(session) else _POSTGRES_INDEXES
    found = session.execute(text(query.format(tables=_listed(tables)))).all()
    indexes = [(name, ddl) for name, ddl in found if name not in keep]
    if not is_sqlite(session):
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    yield
    for _, ddl in indexes:
        session.execute(text(ddl))


@contextmanager
def _triggers_deferred(session: Session, tables: Sequence[str]) -> Iterator[None]:
    # SQLite cannot switch a trigger off: drop it and create it again from its own DDL.
    if is_sqlite(session):
        triggers = session.execute(text(_SQLITE_TRIGGERS.format(tables=_listed(tables)))).all()
        for name, _ in triggers:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        yield
        for _, ddl in triggers:
            session.execute(text(ddl))
        return
    enabled = session.execute(text(_POSTGRES_TRIGGERS.format(tables=_listed(tables)))).all()
    for table, name in enabled:
        session.execute(text(f'ALTER TABLE {table} DISABLE TRIGGER "{name}"'))
    yield
    for table, name in enabled:
        session.execute(text(f'ALTER TABLE {table} ENABLE TRIGGER "{name}"'))


@contextmanager
def _foreign_keys_deferred(session: Session, tables: Sequence[str]) -> Iterator[None]:
    keys = session.execute(text(_POSTGRES_FOREIGN_KEYS.format(tables=_listed(tables)))).all()
    for table, name, _ in keys:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    yield
    for table, name, definition in keys:
        session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))


@contextmanager
def _checks_deferred(session: Session, tables: Sequence[str]) -> Iterator[None]:
    # The flag belongs to the pooled connection: switch it back even if the load fails.
    driver = session.connection().connection.driver_connection
    if driver is None:  # pragma: no cover - a live session always has one
        raise RuntimeError("no database connection")
    driver.execute("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        driver.execute("PRAGMA ignore_check_constraints = OFF")
    for table in tables:
        verify_checks(session, Base.metadata.tables[table])


def verify_checks(session: Session, table: Table) -> None:
    """Raise if any row of ``table`` breaks one of its CHECK constraints (one scan)."""
    checks = [c for c in table.constraints if isinstance(c, CheckConstraint)]
    if not checks:
        return
    broken = " OR ".join(f"NOT ({c.sqltext})" for c in checks)
    count = session.scalar(text(f"SELECT count(*) FROM {table.name} WHERE {broken}"))
    if count:
        names = ", ".join(str(c.name) for c in checks)
        raise RuntimeError(f"demo data: {count} rows of {table.name} break a check ({names})")


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
    try:
        for table in LOADED_TABLES:
            session.execute(text(f"ANALYZE {table}"))
    finally:
        if sqlite:
            session.execute(text("PRAGMA analysis_limit = 0"))
