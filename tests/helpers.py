"""Helpers shared by tests: database reset and SQL statement counting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, text

from bookwise.models import Base, utcnow


def reset_postgres_schema(engine: Engine) -> None:
    """Drop everything in the public schema (the test database is disposable)."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def reset_postgres(engine: Engine) -> None:
    """Empty every table and put back the rows the initial migration seeds."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO assignment_roles (name, inheritable, description) "
                "VALUES ('csm', true, 'Customer Success Manager')"
            )
        )
        conn.execute(
            text("INSERT INTO settings (key, value) VALUES ('default_inherit_policy', '\"own\"')")
        )
        conn.execute(
            text(
                "INSERT INTO users (email, email_fold, name, role, csm_seat, active, is_system,"
                " created_at) VALUES ('cli@bookwise.invalid', 'cli@bookwise.invalid',"
                " 'bookwise CLI', 'admin', false, true, true, :now)"
            ),
            {"now": utcnow().replace(tzinfo=None)},
        )


@dataclass
class StatementLog:
    """SQL statements executed while counting (executemany counts once)."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementLog]:
    """Count the statements sent to the database inside the block."""
    log = StatementLog()

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", _record)
