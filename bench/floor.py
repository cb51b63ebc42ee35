"""The floor's own connection: hand-written SQL straight through the database driver.

The floor runs on a DB-API connection of its own (``sqlite3`` or ``psycopg``) with the same
settings bookwise's engine uses (WAL, ``synchronous=NORMAL``, foreign keys, the same page
cache), so the ratio measures bookwise's code, not a difference in configuration. SQL is
written once with ``:name`` parameters; for psycopg they become ``%(name)s``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import make_url

from bookwise.config import get_settings
from bookwise.db import normalise_url
from bookwise.demo.generator import storage_timestamp
from bookwise.models import utcnow

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class FloorConnection:
    """A raw driver connection; ``rows`` reads, ``write`` runs statements in one transaction."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.sqlite = self.url.startswith("sqlite")
        if self.sqlite:
            database = make_url(self.url).database
            assert database, "the floor needs a SQLite file"
            self.raw: Any = sqlite3.connect(database, isolation_level=None)
            for pragma in (
                "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                "busy_timeout=60000",
                f"cache_size=-{get_settings().sqlite_cache_mib * 1024}",
                "temp_store=FILE",
            ):
                self.raw.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            plain = make_url(self.url).set(drivername="postgresql")
            self.raw = psycopg.connect(plain.render_as_string(hide_password=False))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return "sqlite" if self.sqlite else "postgresql"

    def sql(self, text: str) -> str:
        """The statement in this driver's parameter style."""
        return text if self.sqlite else _NAMED.sub(r"%(\1)s", text.replace("%", "%%"))

    def rows(self, text: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and fetch every row (a read: the transaction ends afterwards)."""
        cursor = self.raw.cursor()
        try:
            cursor.execute(self.sql(text), params or {})
            return list(cursor.fetchall())
        finally:
            cursor.close()
            if not self.sqlite:
                self.raw.rollback()

    def value(self, text: str, params: dict[str, Any] | None = None) -> Any:
        """The first column of the first row."""
        return self.rows(text, params)[0][0]

    @contextmanager
    def transaction(self) -> Iterator[Callable[..., Any]]:
        """One write transaction (BEGIN IMMEDIATE on SQLite); yields ``run(sql, params)``."""
        cursor = self.raw.cursor()

        def run(text: str, params: dict[str, Any] | None = None) -> Any:
            cursor.execute(self.sql(text), params or {})
            return cursor

        try:
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            yield run
            if self.sqlite:
                cursor.execute("COMMIT")
            else:
                self.raw.commit()
        except BaseException:
            if not self.sqlite:
                self.raw.rollback()
            elif self.raw.in_transaction:
                cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()

    def write(self, statements: Iterable[tuple[str, dict[str, Any]] | str]) -> None:
        """Run statements in one write transaction."""
        with self.transaction() as run:
            for statement in statements:
                text, params = (statement, {}) if isinstance(statement, str) else statement
                run(text, params)

    def settle(self) -> None:
        """On PostgreSQL, ``VACUUM (ANALYZE)`` the database (not timed).

        This machine's server runs with ``autovacuum = off`` (its conf.d/90-ci.conf). A
        million-account write and its undo leave dead rows and stale statistics that a
        production server's autovacuum would clean up; left alone, they piled up (400,000
        dead rows in ``accounts`` at 100k) and later scenarios were measured on a bloated
        table with plans chosen from the wrong row counts. SQLite needs nothing here.
        """
        if self.sqlite:
            return
        self.raw.autocommit = True
        try:
            self.raw.execute("VACUUM (ANALYZE)")
        finally:
            self.raw.autocommit = False

    def close(self) -> None:
        """Close the driver connection."""
        self.raw.close()


class Checkpoint:
    """What the database held before a timed write, and how to put it back (not timed).

    Writes only ever add operations, assignments, history and membership rows, end open
    rows, and bump account versions; everything after the checkpoint's ids is removed, every
    row ended after it is reopened, and versions are recomputed from the history kept.
    """

    def __init__(self, floor: FloorConnection) -> None:
        self.floor = floor
        self.operation = int(floor.value("SELECT coalesce(max(id), 0) FROM operations"))
        self.assignment = int(floor.value("SELECT coalesce(max(id), 0) FROM assignments"))
        self.membership = int(floor.value("SELECT coalesce(max(id), 0) FROM segment_memberships"))
        self.audit = int(floor.value("SELECT coalesce(max(id), 0) FROM audit_events"))
        now = utcnow()
        self.stamp: Any = storage_timestamp(now) if floor.sqlite else now

    def restore(self, extra: Sequence[str] = ()) -> None:
        """Remove everything written since the checkpoint."""
        p = {"op": self.operation, "asg": self.assignment, "mem": self.membership}
        left = {"stamp": self.stamp}
        self.floor.write(
            [
                (
                    "UPDATE accounts SET ownership_version = coalesce((SELECT max(c.version) "
                    "FROM ownership_changes c WHERE c.account_id = accounts.id "
                    "AND c.operation_id <= :op), 0) WHERE id IN (SELECT account_id "
                    "FROM ownership_changes WHERE operation_id > :op)",
                    p,
                ),
                (f"DELETE FROM audit_events WHERE id > {self.audit}", {}),
                ("DELETE FROM ownership_changes WHERE operation_id > :op", p),
                ("DELETE FROM policy_changes WHERE operation_id > :op", p),
                (
                    "UPDATE assignments SET ended_at = NULL, ended_operation_id = NULL "
                    "WHERE ended_operation_id > :op",
                    p,
                ),
                ("DELETE FROM assignments WHERE id > :asg", p),
                ("UPDATE operations SET undone_by_id = NULL WHERE undone_by_id > :op", p),
                ("DELETE FROM operations WHERE id > :op", p),
                ("DELETE FROM segment_memberships WHERE id > :mem", p),
                ("UPDATE segment_memberships SET left_at = NULL WHERE left_at >= :stamp", left),
                *extra,
            ]
        )
        self.floor.settle()


def ownership_digest(floor: FloorConnection) -> tuple[Any, ...]:
    """A fingerprint of all ownership state (and of the value history's size): equal
    digests mean equal writes."""
    return tuple(
        floor.rows(
            "SELECT (SELECT count(*) FROM assignments), "
            "(SELECT count(*) FROM assignments WHERE ended_at IS NULL), "
            "(SELECT count(*) FROM assignments WHERE ended_at IS NULL AND is_primary), "
            "(SELECT coalesce(sum(account_id * 1009 + user_id), 0) FROM assignments "
            " WHERE ended_at IS NULL), "
            "(SELECT coalesce(sum(CASE WHEN source = 'inherited' THEN account_id ELSE 0 END), 0)"
            " FROM assignments WHERE ended_at IS NULL), "
            "(SELECT count(*) FROM ownership_changes), "
            "(SELECT coalesce(sum(ownership_version), 0) FROM accounts), "
            "(SELECT count(*) FROM operations), "
            "(SELECT count(*) FROM segment_memberships), "
            "(SELECT count(*) FROM segment_memberships WHERE left_at IS NULL), "
            # No bulk write here changes a history field: both sides must leave it alone.
            "(SELECT count(*) FROM account_values)"
        )[0]
    )
