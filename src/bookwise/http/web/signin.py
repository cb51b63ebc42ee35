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
from bookwise.http.security import (
    SIGNIN_COOKIE,
    cookie_is_secure,
    set_signin_cookie,
    signin_is_genuine,
    signin_token,
)
from bookwise.http.web.common import local_path
from bookwise.http.web.templating import page

router = APIRouter(include_in_schema=False)
SIGNIN_EXPIRED = "The sign-in form expired or did not come from bookwise; sign in again."


def _safe_next(target: str | None) -> str:
    return local_path(target, "/assignment")


@get(router, "/", role="public")
def home(caller: CallerDep) -> Response:
    """The start page: the assignment screen, or sign-in."""
    return RedirectResponse("/assignment" if caller.signed_in else "/login", status_code=303)


def _form(request: Request, next: str | None, error: str | None, status_code: int = 200) -> Any:
    """The sign-in form, with its CSRF token in a hidden field and in a cookie."""
    token = signin_token(request)
    response = page(
        request, "login.html", status_code, next=_safe_next(next), error=error, signin_token=token
    )
    set_signin_cookie(response, token, secure=cookie_is_secure(request, _forced_secure()))
    return response


def _forced_secure() -> bool | None:
    return get_settings().cookie_secure


@get(router, "/login", role="public")
def login_form(request: Request, next: str | None = None) -> Any:
    """The sign-in form."""
    return _form(request, next, error=None)


@post(router, "/login", role="public")
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
    token: Annotated[str, Form(alias="signin_token")] = "",
) -> Any:
    """Check the password; on success set the session cookie and go on."""
    if not signin_is_genuine(request, token):
        # Login CSRF: another site posting its own credentials would sign this browser in as
        # the attacker. Nothing is counted or checked; the form comes back with a fresh token.
        return _form(request, next, SIGNIN_EXPIRED, 403)
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
        return _form(request, next, exc.message, 429)
    outcome = writing(request, work)
    if isinstance(outcome, SignInFailed):
        return _form(request, next, outcome.message, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request, _forced_secure()),
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/login")  # signed in: the form's token is done
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
