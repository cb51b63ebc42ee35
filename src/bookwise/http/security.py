"""Security headers on every response, and the session cookie's attributes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

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


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Add the security headers to every response (pages, API, static files, errors)."""
    response = await call_next(request)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.url.path.startswith(("/api/", "/login", "/logout")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def cookie_is_secure(request: Request, forced: bool | None) -> bool:
    """Secure unless served over plain HTTP on a loopback address (the demo), or forced."""
    if forced is not None:
        return forced
    return request.url.scheme == "https" or request.url.hostname not in LOOPBACK
