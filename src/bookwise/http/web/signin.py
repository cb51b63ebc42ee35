"""Sign in, sign out, and the start page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bookwise.auth.service import (
    SESSION_DAYS,
    SignInFailed,
    TooManyAttempts,
    check_password,
    count_attempt,
    end_session,
    start_session,
)
from bookwise.config import get_settings
from bookwise.http.context import SESSION_COOKIE, CallerDep, writing
from bookwise.http.routing import get, post
from bookwise.http.security import cookie_is_secure
from bookwise.http.web.common import local_path
from bookwise.http.web.templating import page

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    return local_path(target, "/assignment")


@get(router, "/", role="public")
def home(caller: CallerDep) -> Response:
    """The start page: the assignment screen, or sign-in."""
    return RedirectResponse("/assignment" if caller.signed_in else "/login", status_code=303)


@get(router, "/login", role="public")
def login_form(request: Request, next: str | None = None) -> Any:
    """The sign-in form."""
    return page(request, "login.html", next=_safe_next(next), error=None)


@post(router, "/login", role="public")
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Any:
    """Check the password; on success set the session cookie and go on."""
    address = request.client.host if request.client else "unknown"

    def work(session: Session) -> Any:
        try:
            user = check_password(session, email=email, password=password, address=address)
        except SignInFailed as exc:
            return exc
        return start_session(session, user=user)

    try:
        # Counted and committed before the password is hashed: parallel guesses each get their
        # own count, and the counters are not held locked while a hash runs.
        writing(request, lambda session: count_attempt(session, email=email, address=address))
    except TooManyAttempts as exc:
        return page(request, "login.html", 429, next=_safe_next(next), error=exc.message)
    outcome = writing(request, work)
    if isinstance(outcome, SignInFailed):
        return page(request, "login.html", 401, next=_safe_next(next), error=outcome.message)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request, get_settings().cookie_secure),
        path="/",
    )
    return response


@post(router, "/logout", role="viewer")
def logout(request: Request) -> Response:
    """Sign out: the session is deleted on the server and the cookie cleared."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        writing(request, lambda session: end_session(session, token))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
