"""Security headers on every response, and the session cookie's attributes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

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


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Add the security headers to every response (pages, API, static files, errors)."""
    try:
        response = await call_next(request)
    except Exception as exc:
        # Answered here rather than by Starlette's outermost error middleware, which sits
        # outside this one: a 500 gets the same headers as every other response.
        response = await unexpected_error(request, exc)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.url.path.startswith("/static/"):
        # Pages and API answers hold customer data: no copy in any cache, nor in the history
        # a back button shows after signing out.
        response.headers.setdefault("Cache-Control", "no-store")
    if request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def cookie_is_secure(request: Request, forced: bool | None) -> bool:
    """Secure unless served over plain HTTP on a loopback address (the demo), or forced."""
    if forced is not None:
        return forced
    return request.url.scheme == "https" or request.url.hostname not in LOOPBACK
