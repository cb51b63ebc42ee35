"""Security headers on every response, the session cookie's attributes, and login CSRF."""

from __future__ import annotations

import hmac
import re
import secrets

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bookwise.http.problems import unexpected_error

HEADERS = {
    # No inline script or style anywhere: everything comes from /static.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
HSTS = "max-age=31536000"  # only sent over HTTPS: a year of "this site is HTTPS only"


class SecurityHeaders:
    """Add the security headers to every response (pages, API, static files, errors).

    A plain ASGI middleware that adds them to the response's first message. Starlette's
    ``BaseHTTPMiddleware`` (``app.middleware("http")``) runs the rest of the app in a task of
    its own with streams between the two; on the one-client page requests of the benchmark
    that machinery was a measurable part of what HTTP adds (docs/performance.md).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers on the way out; answer a bug with a 500."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _headers_for(scope)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if started:
                raise
            # Answered here rather than by Starlette's outermost error middleware, which sits
            # outside this one: a 500 gets the same headers as every other response.
            response = await unexpected_error(Request(scope), exc)
            await response(scope, receive, send_with_headers)


def _headers_for(scope: Scope) -> list[tuple[str, str]]:
    headers = list(HEADERS.items())
    if not str(scope.get("path", "")).startswith("/static/"):
        # Pages and API answers hold customer data: no copy in any cache, nor in the history
        # a back button shows after signing out.
        headers.append(("Cache-Control", "no-store"))
    if scope.get("scheme") == "https":
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def cookie_is_secure(request: Request, forced: bool | None) -> bool:
    """Secure unless served over plain HTTP on a loopback address (the demo), or forced."""
    if forced is not None:
        return forced
    return request.url.scheme == "https" or request.url.hostname not in LOOPBACK


# --- login CSRF --------------------------------------------------------------------------------
# Before a session exists there is no session CSRF token, so the sign-in form carries one of its
# own (double submit): GET /login sets it in a cookie and in the form, and POST /login is taken
# only when the two match. Another site can make a browser post to /login, but it can neither
# read nor set that cookie, so it cannot sign the browser into the attacker's account.
SIGNIN_COOKIE = "bookwise_signin"
SIGNIN_FIELD = "signin_token"
SIGNIN_COOKIE_HOURS = 12
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# What a browser says about where a request comes from (Fetch Metadata); absent in old ones.
_OWN_SITE = frozenset({"same-origin", "none"})


def signin_token(request: Request) -> str:
    """The sign-in form's token: the browser's current one, else a new one."""
    current = request.cookies.get(SIGNIN_COOKIE, "")
    return current if _TOKEN_SHAPE.fullmatch(current) else secrets.token_urlsafe(32)


def set_signin_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Give the browser the sign-in form's token (sent back only to /login, never to scripts)."""
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        max_age=SIGNIN_COOKIE_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/login",
    )


def signin_is_genuine(request: Request, sent: str) -> bool:
    """True for a sign-in posted by bookwise's own form: its token matches the cookie's, and
    the browser does not say the request came from another site."""
    if request.headers.get("sec-fetch-site", "same-origin") not in _OWN_SITE:
        return False
    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie, sent)
