"""What every command shares: the engine, one transaction, the actor, and error rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from bookwise.config import get_settings
from bookwise.db import get_engine, read_connection, read_session, run_write
from bookwise.errors import BookwiseError, Refused

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from bookwise.models import User

T = TypeVar("T")

_GLOBAL_ACTOR: ContextVar[str | None] = ContextVar("bookwise_global_actor", default=None)
UNDEFINED_TABLE = "42P01"


def engine() -> Engine:
    """The engine of the configured database (``BOOKWISE_DATABASE_URL``)."""
    return get_engine()


def database_label() -> str:
    """The configured database URL with any password hidden."""
    return engine().url.render_as_string(hide_password=True)


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only session on the configured database."""
    with read_session(engine()) as session:
        yield session


@contextmanager
def reading_rows() -> Iterator[Connection]:
    """A read-only connection without the ORM, for a command that reads no model (csms)."""
    with read_connection(engine()) as connection:
        yield connection


def writing(work: Callable[[Session], T]) -> T:
    """Run ``work`` as the command's one write transaction."""
    return run_write(engine(), work)


def set_global_actor(email: str | None) -> None:
    """Remember the ``--as`` given before the command name (set on every invocation)."""
    _GLOBAL_ACTOR.set(email)


def global_actor() -> str | None:
    """The ``--as`` given before the command name, if any."""
    return _GLOBAL_ACTOR.get()


def resolve_actor(session: Session, explicit: str | None = None, *, admin: bool = False) -> User:
    """The actor of a write: ``--as``, else ``BOOKWISE_ACTOR``, else the built-in CLI user.

    Ownership changes need a manager or admin; user, attribute and role management an admin.
    """
    from bookwise.users.service import cli_user, get_user  # writes only: email validation

    email = explicit or global_actor() or get_settings().actor
    if not email:
        return cli_user(session)
    user = get_user(session, email)
    if not user.active:
        raise Refused(f"{user.email} is inactive and cannot act (check --as / BOOKWISE_ACTOR)")
    allowed = ("admin",) if admin else ("admin", "manager")
    if user.role not in allowed:
        raise Refused(f"{user.email} is a {user.role}; this needs the {' or '.join(allowed)} role")
    return user


def describe_failure(exc: BaseException) -> str | None:
    """One line for an expected failure, or None when ``exc`` is a bug worth a traceback."""
    if isinstance(exc, BookwiseError):
        return exc.message
    if isinstance(exc, IntegrityError):
        return (
            "the change conflicts with data already stored "
            f"({_first_line(exc.orig)}); nothing was written"
        )
    if _missing_table(exc):
        return f"the database {database_label()} is not initialised: run `bookwise init` first"
    if isinstance(exc, OperationalError):
        return f"database error on {database_label()}: {_first_line(exc.orig)}"
    return None


def _missing_table(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError | ProgrammingError):
        return False
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) == UNDEFINED_TABLE:
        return True
    return "no such table" in str(exc.orig)


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
