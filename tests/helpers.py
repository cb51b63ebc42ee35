"""Helpers shared by tests: database reset and SQL statement counting."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from bookwise.db import run_write
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
        # The overview's counters as migration 0008 leaves an empty database.
        conn.execute(text("INSERT INTO coverage_counts (role, accounts, mrr) VALUES ('csm', 0, 0)"))
        conn.execute(text("INSERT INTO account_count (id, accounts) VALUES (1, 0)"))
        conn.execute(
            text(
                "INSERT INTO users (email, email_fold, name, role, csm_seat, active, is_system,"
                " created_at) VALUES ('cli@bookwise.invalid', 'cli@bookwise.invalid',"
                " 'bookwise CLI', 'admin', false, true, true, :now)"
            ),
            {"now": utcnow().replace(tzinfo=None)},
        )


def race(
    engine: Engine,
    works: list[Callable[[Session, Callable[[], None]], None]],
    *,
    tolerated: tuple[type[BaseException], ...] = (),
) -> list[BaseException]:
    """Run each work in its own write transaction on its own thread, all at once; return
    the errors not ``tolerated``.

    A work calls ``meet()`` where the writers should line up: on PostgreSQL that is inside
    the transactions (after reading, where a missing guard shows); on SQLite, whose writers
    queue at BEGIN IMMEDIATE, they line up before their transactions instead.
    """
    barrier = threading.Barrier(len(works))
    inside = engine.dialect.name == "postgresql"
    errors: list[BaseException] = []

    def meet() -> None:
        if inside:
            barrier.wait(timeout=30)

    def run(work: Callable[[Session, Callable[[], None]], None]) -> None:
        try:
            if not inside:
                barrier.wait(timeout=30)
            run_write(engine, lambda session: work(session, meet))
        except tolerated:
            pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


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


def open_csms(session: Any, account: Any, role: str = "csm") -> set[str]:
    """Emails of the account's open owners in ``role``."""
    from sqlalchemy import select

    from bookwise.models import Assignment, User

    return set(
        session.scalars(
            select(User.email)
            .join(Assignment, Assignment.user_id == User.id)
            .where(
                Assignment.account_id == account.id,
                Assignment.role == role,
                Assignment.ended_at.is_(None),
            )
        )
    )


def ownership_snapshot(session: Any) -> dict[int, frozenset[tuple[int, str]]]:
    """Every account's open (user id, role) pairs: a whole-database picture to compare."""
    from sqlalchemy import select

    from bookwise.models import Assignment

    snapshot: dict[int, set[tuple[int, str]]] = {}
    for account_id, user_id, role in session.execute(
        select(Assignment.account_id, Assignment.user_id, Assignment.role).where(
            Assignment.ended_at.is_(None)
        )
    ):
        snapshot.setdefault(account_id, set()).add((user_id, role))
    return {k: frozenset(v) for k, v in snapshot.items()}


def table_counts(session: Any) -> dict[str, int]:
    """Row counts of the history tables (to prove a preview wrote nothing)."""
    from sqlalchemy import func, select

    from bookwise.models import Assignment, Operation, OwnershipChange, PolicyChange

    return {
        model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Assignment, Operation, OwnershipChange, PolicyChange)
    }


def chain_violations(session: Any) -> list[str]:
    """Breaks of the per-account version chain (versions 1..n, matching the account)."""
    from sqlalchemy import select

    from bookwise.models import Account, OwnershipChange

    versions: dict[int, list[int]] = {}
    for account_id, version in session.execute(
        select(OwnershipChange.account_id, OwnershipChange.version).order_by(
            OwnershipChange.account_id, OwnershipChange.version
        )
    ):
        versions.setdefault(account_id, []).append(version)
    problems = []
    for account_id, current in session.execute(select(Account.id, Account.ownership_version)):
        seen = versions.get(account_id, [])
        if seen != list(range(1, current + 1)):
            problems.append(f"account {account_id}: versions {seen}, ownership_version {current}")
    return problems
