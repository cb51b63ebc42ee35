"""Engines and transactions: one transaction per command, request or job.

SQLite write transactions start with ``BEGIN IMMEDIATE`` (the driver's implicit BEGIN loses
updates, a deferred BEGIN fails with "database is locked" when it upgrades); PostgreSQL write
transactions lock the rows they read and are retried on serialization failures and deadlocks.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, String, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from bookwise.config import get_settings

if TYPE_CHECKING:
    # The ORM is imported when a session is made: `bookwise csms` reads through a bare
    # Connection and starts without it (read_connection; docs/performance.md).
    from sqlalchemy.orm import Session

T = TypeVar("T")

WRITE_OPTION = "bookwise_write"
TIMEOUT_OPTION = "bookwise_statement_timeout_ms"
QUERY_CANCELED = "57014"  # PostgreSQL: statement timeout or cancel request
# SQLite's clock: the progress handler runs every this many virtual machine instructions, and
# a pause between two runs longer than the gap (the caller working between two fetches, a
# wait for a lock) counts as the gap only: the time limit is the time spent in SQLite.
SQLITE_PROGRESS_STEPS = 4_000
SQLITE_PROGRESS_GAP = 0.05
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
MAX_ATTEMPTS = 8


SQLITE_LOWER = "bw_lower"


def _lower_text(value: object) -> object:
    # Character by character, with Unicode's simple mapping (one character each), as
    # PostgreSQL's lower() does: str.lower() on the whole string would apply context rules
    # (a final Σ becomes ς) and İ would become two characters.
    if not isinstance(value, str):
        return value
    return "".join(char.lower()[0] if char.lower() else char for char in value)


class text_fold(FunctionElement[str]):
    """Lower-case text the same Unicode-aware way on both databases.

    PostgreSQL's ``lower()`` (UTF-8 database) and, on SQLite, the same per-character simple
    lower-casing in Python, registered on every connection as ``bw_lower``: rules compare text
    without regard to case through it (SQLite's own ``lower()`` folds ASCII only).
    """

    type = String()
    name = "text_fold"
    inherit_cache = True


def render_per_dialect(element: type[FunctionElement[Any]], *, default: str, sqlite: str) -> None:
    """Render ``element(args…)`` as the SQL function ``default(args…)``, on SQLite ``sqlite(…)``."""

    def renderer(sql_name: str) -> Callable[..., str]:
        def render(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
            return f"{sql_name}({compiler.process(element.clauses, **kw)})"

        return render

    compiles(element)(renderer(default))
    compiles(element, "sqlite")(renderer(sqlite))


render_per_dialect(text_fold, default="lower", sqlite=SQLITE_LOWER)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine_or_conn: Engine | Connection | Session) -> bool:
    """True when the bound database is SQLite."""
    bind = (
        engine_or_conn
        if isinstance(engine_or_conn, Engine | Connection)
        else engine_or_conn.get_bind()
    )
    return bind.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with bookwise's connection settings for SQLite or PostgreSQL."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # Writers queue on SQLite's lock while holding a pooled connection: size the pool
        # for many waiting threads rather than fail them with a pool timeout.
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": 60},
            pool_size=20,
            max_overflow=80,
            pool_timeout=120,
        )
        _configure_sqlite(engine, get_settings().sqlite_cache_mib)
        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=40)
    _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # SET LOCAL: the limit ends with the transaction, so the pooled connection of the
        # next caller (a CLI command, say) runs without it.
        timeout_ms = conn.get_execution_options().get(TIMEOUT_OPTION)
        if timeout_ms:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")


class _SqliteClock:
    """SQLite's statement timeout: a progress handler that stops a statement past its time.

    SQLite has no statement timeout of its own; returning non-zero from the progress handler
    interrupts the running statement ("interrupted").
    """

    def __init__(self, timeout_ms: int) -> None:
        self.limit = timeout_ms / 1000
        self.used = 0.0
        self.last = time.monotonic()

    def start(self) -> None:
        """A statement starts: it has the whole limit."""
        self.used = 0.0
        self.last = time.monotonic()

    def __call__(self) -> int:
        now = time.monotonic()
        self.used += min(now - self.last, SQLITE_PROGRESS_GAP)
        self.last = now
        return 1 if self.used > self.limit else 0


def _configure_sqlite(engine: Engine, cache_mib: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from pysqlite so that we decide how every transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=60000",
            f"cache_size=-{cache_mib * 1024}",
            "temp_store=FILE",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        # Unicode-aware lower() for case-insensitive text in rules (SQLite's folds ASCII only).
        dbapi_connection.create_function(SQLITE_LOWER, 1, _lower_text, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        conn.exec_driver_sql(_current_begin()(options.get(WRITE_OPTION, False)))
        # Set (or cleared) at every BEGIN, so no limit outlives the transaction it was for.
        timeout_ms = options.get(TIMEOUT_OPTION)
        clock = _SqliteClock(int(timeout_ms)) if timeout_ms else None
        dbapi_connection: Any = conn.connection.dbapi_connection
        dbapi_connection.set_progress_handler(clock, SQLITE_PROGRESS_STEPS if clock else 0)
        conn.info[_CLOCK] = clock

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn: Connection, *_args: Any) -> None:
        clock = conn.info.get(_CLOCK)
        if clock is not None:
            clock.start()


@contextmanager
def bulk_load_settings(session: Session, *, sqlite_cache_mib: int) -> Iterator[None]:
    """Run a bulk load's statements with settings that suit them, and put the connection's
    own back after.

    SQLite: a page cache of at most ``sqlite_cache_mib`` MiB (a load touches every page once;
    a big cache only grows the process). PostgreSQL: no JIT compilation, for this transaction
    only: the load's statements are few and run once over many rows, their cost estimates
    pass JIT's thresholds, and compiling them cost more than it saved (1.3 s of a 3.0 s
    statement at 100k rows; docs/performance.md).
    """
    connection = session.connection()
    sqlite = is_sqlite(session)
    if sqlite:
        before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
        wanted = -sqlite_cache_mib * 1024  # negative: KiB rather than pages
        size = max(before, wanted) if before < 0 else wanted  # shrink only
        connection.exec_driver_sql(f"PRAGMA cache_size = {size}")
        restore = f"PRAGMA cache_size = {before}"
    else:
        jit = connection.exec_driver_sql("SELECT current_setting('jit')").scalar_one()
        connection.exec_driver_sql("SET LOCAL jit = off")
        restore = f"SET LOCAL jit = {'on' if jit == 'on' else 'off'}"
    try:
        yield
    except BaseException:
        # PostgreSQL's SET LOCAL ends with the failed transaction; a failed transaction
        # would refuse the statement and hide the error.
        if sqlite:
            connection.exec_driver_sql(restore)
        raise
    connection.exec_driver_sql(restore)


_CLOCK = "bookwise_sqlite_clock"


def is_statement_timeout(exc: BaseException) -> bool:
    """True when a statement was cancelled by the statement time limit (either database)."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
        return True
    return isinstance(exc.orig, sqlite3.OperationalError) and str(exc.orig) == "interrupted"


def _current_begin() -> Callable[[bool], str]:
    # Looked up at call time so a test can replace the guard and prove it matters.
    return sqlite_begin


def sqlite_begin(write: bool) -> str:
    """How a SQLite transaction starts: writers take the write lock up front."""
    return "BEGIN IMMEDIATE" if write else "BEGIN"


@lru_cache
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    return _cached_engine(url or get_settings().database_url)


def _options(*, write: bool, timeout_ms: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {WRITE_OPTION: True} if write else {}
    if timeout_ms:
        options[TIMEOUT_OPTION] = timeout_ms
    return options


@contextmanager
def read_session(engine: Engine, *, timeout_ms: int | None = None) -> Iterator[Session]:
    """A session for reads; rolled back at the end.

    ``timeout_ms``: each statement of the transaction may run that long, then it is cancelled
    (``is_statement_timeout``); web and API requests pass it, CLI commands do not.
    """
    from sqlalchemy.orm import Session

    with Session(engine, expire_on_commit=False) as session:
        if timeout_ms:
            session.connection(execution_options=_options(write=False, timeout_ms=timeout_ms))
        try:
            yield session
        finally:
            session.rollback()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A bare connection for reads (SQLAlchemy Core, no ORM); rolled back at the end.

    For a read that needs no model, such as the CSM overview: importing the ORM and the models
    costs a command about 0.1 s of start-up before its first statement.
    """
    with engine.connect() as connection:
        try:
            yield connection
        finally:
            connection.rollback()


@contextmanager
def write_session(engine: Engine, *, timeout_ms: int | None = None) -> Iterator[Session]:
    """One write transaction: ``BEGIN IMMEDIATE`` on SQLite, committed when the block ends
    (``timeout_ms``: as for ``read_session``)."""
    from sqlalchemy.orm import Session

    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options=_options(write=True, timeout_ms=timeout_ms))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_retryable(exc: BaseException) -> bool:
    """True for PostgreSQL serialization failures and deadlocks."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run_write(engine: Engine, work: Callable[[Session], T], *, timeout_ms: int | None = None) -> T:
    """Run ``work`` in one write transaction, retrying serialization failures with jitter."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with write_session(engine, timeout_ms=timeout_ms) as session:
                return work(session)
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")
