"""Per request: the database, the caller (session cookie or API token), role and CSRF checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from bookwise.auth.service import session_user, token_user
from bookwise.config import get_settings
from bookwise.db import is_statement_timeout, read_session, run_write
from bookwise.errors import BookwiseError, TooCostly
from bookwise.http.roles import ROUTE_ROLES, Role, allows
from bookwise.models import User

T = TypeVar("T")
SESSION_COOKIE = "bookwise_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(BookwiseError):
    """No valid session or token."""

    status_code = 401
    type = "not-signed-in"
    title = "Not signed in"


class Forbidden(BookwiseError):
    """Signed in, but the role does not allow this."""

    status_code = 403
    type = "forbidden"
    title = "Forbidden"


class CsrfFailed(BookwiseError):
    """A form or script call from a session lacked the session's CSRF token."""

    status_code = 403
    type = "csrf-failed"
    title = "CSRF check failed"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the user, how they proved it, and their session's CSRF token."""

    user_id: int
    email: str
    role: str
    csm_seat: bool
    via: Literal["session", "token", "none"]
    csrf_token: str = ""
    name: str = ""  # the user's full name, for the pages' header ("" when none is set)

    @property
    def signed_in(self) -> bool:
        """False for an anonymous caller (only public routes)."""
        return self.via != "none"


ANONYMOUS = Caller(user_id=0, email="", role="", csm_seat=False, via="none")


def engine_of(request: Request) -> Engine:
    """The app's engine."""
    engine: Engine = request.app.state.engine
    return engine


def statement_timeout_ms(request: Request) -> int:
    """How long one statement of this request may run (``app.state`` may override it)."""
    configured = getattr(request.app.state, "statement_timeout_ms", None)
    return get_settings().statement_timeout_ms if configured is None else int(configured)


@contextmanager
def too_costly_as_error(request: Request) -> Iterator[None]:
    """A statement stopped by the time limit becomes TooCostly (503), with what to do."""
    try:
        yield
    except DBAPIError as exc:
        if not is_statement_timeout(exc):
            raise
        limit = statement_timeout_ms(request)
        raise TooCostly(
            f"the request is too costly: one query ran past {limit:,} ms (the limit of "
            "BOOKWISE_STATEMENT_TIMEOUT_MS) and was stopped, and nothing was changed; narrow "
            "its rule or filter (fewer `any child (`, `parent.` and `csm count` conditions), "
            "or run it from the command line, which has no time limit"
        ) from None


KEPT_SESSION = "bookwise.reading_session"
"""Scope key: the read session ``identify`` opened, kept open for the route's ``reading``."""


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A read-only session for this request; each statement within the time limit.

    The first one of a GET or HEAD request is the session ``identify`` looked the caller up
    in, kept open for it: one session (one transaction, one connection from the pool) per
    request instead of two. Reading, the route sees the data the caller was checked against.
    """
    kept: tuple[ExitStack, Session] | None = request.scope.pop(KEPT_SESSION, None)
    if kept is None:
        with _new_reading(request) as session:
            yield session
        return
    stack, session = kept
    with stack:  # ends it as a session of its own would end (rollback, TooCostly)
        yield session


async def close_kept_session(scope: Scope) -> None:
    """End the session ``identify`` kept when the route did not take it (a route that
    reads nothing, a refused caller): in a thread, since ending it is database work."""
    if KEPT_SESSION in scope:
        # Shielded: called in a ``finally``, where a cancelled request's await would be
        # cancelled too and the session (and its connection) left open.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end_kept_session, scope)


def _end_kept_session(scope: Scope) -> None:
    kept: tuple[ExitStack, Session] | None = scope.pop(KEPT_SESSION, None)
    if kept is not None:
        kept[0].close()


@contextmanager
def _new_reading(request: Request) -> Iterator[Session]:
    timeout_ms = statement_timeout_ms(request)
    with (
        too_costly_as_error(request),
        read_session(engine_of(request), timeout_ms=timeout_ms) as session,
    ):
        yield session


def writing(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` as this request's one write transaction (retried on serialization), each
    statement within the time limit.

    A GET's look-up session still kept (a preview's dry run, the first thing it does) is
    ended first: one connection at a time, not a read transaction idling beside the write.
    """
    _end_kept_session(request.scope)
    with too_costly_as_error(request):
        return run_write(engine_of(request), work, timeout_ms=statement_timeout_ms(request))


def acting_user(session: Session, caller: Caller) -> User:
    """The caller as a User of ``session``, to pass as ``actor`` to services."""
    user = session.get(User, caller.user_id)
    if user is None or not user.active:
        raise NotSignedIn("your account is no longer active")
    return user


def identify(request: Request, *, keep: bool = True) -> Caller:
    """The caller of a request: an API token, else a session cookie, else anonymous.

    For a GET or HEAD request the session of the look-up stays open for the route
    (``reading``); ``BodyLimit`` ends it if the route does not take it. Other methods end
    it here: their body is read (and may be large) before the route reads anything. So does
    ``keep=False`` (the error page's look-up, which may run after ``BodyLimit``).
    """
    with ExitStack() as stack:
        session = stack.enter_context(_new_reading(request))
        caller = _look_up(request, session)
        if keep and request.method in SAFE_METHODS:
            request.scope[KEPT_SESSION] = (stack.pop_all(), session)
    return caller


def _look_up(request: Request, session: Session) -> Caller:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = token_user(session, header[7:].strip())
        if user is None:
            raise NotSignedIn("the API token is unknown, revoked, or its user is inactive")
        return _caller(user, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = session_user(session, cookie)
        if found is not None:
            user, row = found
            return _caller(user, "session", row.csrf_token)
    return ANONYMOUS


def _caller(user: User, via: Literal["session", "token"], csrf: str = "") -> Caller:
    return Caller(
        user_id=user.id,
        email=user.email,
        role=user.role,
        csm_seat=user.csm_seat,
        via=via,
        csrf_token=csrf,
        name=user.name,
    )


AUTHENTICATED = "bookwise.authenticated"
"""Scope key: (path template, role needed) once ``authenticate`` has let the caller through."""


def route_role(method: str, path: str) -> Role:
    """The least role ``method path`` (a route's path template) declared; none is a 403."""
    needed = ROUTE_ROLES.get((method, path))
    if needed is None and method == "HEAD":
        needed = ROUTE_ROLES.get(("GET", path))
    if needed is None:
        raise Forbidden(f"{method} {path} has no declared role")  # fail closed
    return needed


async def authenticate(request: Request, path: str) -> Role:
    """Identify the caller of route ``path`` and check its declared role; the role needed.

    Needs the headers only: ``bookwise.http.limits.BodyLimit`` runs it before a byte of the
    body is read, so that an anonymous or unauthorized request is answered without reading it.
    """
    needed = route_role(request.method, path)
    # The look-up is blocking database work: in a thread, so that it never stalls the loop.
    try:
        caller = await run_in_threadpool(identify, request)
    except NotSignedIn:
        if needed != "public":
            raise
        caller = ANONYMOUS  # a stale token must not lock anyone out of the sign-in page
    request.state.caller = caller
    if needed != "public":
        if not caller.signed_in:
            raise NotSignedIn("sign in first (or send an API token: Authorization: Bearer …)")
        if not allows(caller.role, needed):
            raise Forbidden(f"this needs the {needed} role; you are a {caller.role}")
    request.scope[AUTHENTICATED] = (path, needed)
    return needed


async def authorize(request: Request) -> None:
    """Every route: the caller and its role (checked by ``authenticate``, before the body was
    read, unless that has not run), then CSRF for sessions."""
    route: Any = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    checked: tuple[str, Role] | None = request.scope.get(AUTHENTICATED)
    needed = checked[1] if checked is not None and checked[0] == path else None
    if needed is None:
        needed = await authenticate(request, path)
    caller = current_caller(request)
    if needed != "public" and caller.via == "session" and request.method not in SAFE_METHODS:
        await check_csrf(request, caller)


async def check_csrf(request: Request, caller: Caller) -> None:
    """The session's CSRF token must come back in a header or a form field."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, caller.csrf_token):
        raise CsrfFailed("the form has expired or did not come from bookwise; reload the page")


def current_caller(request: Request) -> Caller:
    """The caller ``authorize`` identified."""
    caller: Caller = getattr(request.state, "caller", ANONYMOUS)
    return caller


async def _caller_of(request: Request) -> Caller:
    # Async: FastAPI runs a plain function dependency in a worker thread, a hop per request
    # for a look-up in request.state.
    return current_caller(request)


CallerDep = Annotated[Caller, Depends(_caller_of)]
