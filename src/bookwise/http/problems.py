"""Errors: ``application/problem+json`` (RFC 9457) for the API, an HTML page for the UI.

No stack trace, SQL or file path ever reaches a client: unexpected errors are logged and
answered with a generic 500 problem.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from bookwise.errors import BookwiseError, InvalidRule
from bookwise.http.context import identify

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://bookwise.dev/problems/"
log = logging.getLogger("bookwise.http")


def problem_body(
    *, status: int, type_: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """The JSON of a problem: ``type`` is stable, ``detail`` says what happened."""
    return {"type": TYPE_BASE + type_, "title": title, "status": status, "detail": detail, **extra}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _render(
    request: Request,
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    if _is_api(request):
        extra = dict(headers or {})
        if status == 401:
            extra.setdefault("WWW-Authenticate", 'Bearer realm="bookwise"')
        return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=extra)
    if status == 401:
        if request.method not in ("GET", "HEAD"):
            # A form sent after the session ended: its address cannot be opened with a GET.
            return RedirectResponse("/login", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        # Encoded whole, so that the page's own query stays inside ``next``.
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    caller = getattr(request.state, "caller", None)
    if caller is None:
        # No route matched (a 404, a 405), or the look-up itself failed (a 500), so no one
        # identified the caller: do it here so that a signed-in user keeps the navigation
        # on the error page. In a thread (database work), and in a session ended at once:
        # a 500 is rendered outside BodyLimit, which ends a kept session.
        try:
            caller = await run_in_threadpool(identify, request, keep=False)
        except (BookwiseError, SQLAlchemyError):  # the page without the navigation
            caller = None
    rendered: Response = request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"problem": body, "caller": caller},
        status_code=status,
        headers=dict(headers or {}),
    )
    return rendered


async def bookwise_error(request: Request, exc: Exception) -> Response:
    """A BookwiseError: its status, stable type and message (rule errors with the position)."""
    assert isinstance(exc, BookwiseError)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidRule):
        extra = {k: v for k, v in exc.details.items() if k in ("position", "end", "path")}
        extra["reason"] = exc.reason
    body = problem_body(
        status=exc.status_code, type_=exc.type, title=exc.title, detail=exc.message, **extra
    )
    return await _render(request, exc.status_code, body)


async def validation_error(request: Request, exc: Exception) -> Response:
    """Malformed request: every invalid field, where and why."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
    body = problem_body(
        status=422, type_="invalid-request", title="Invalid request", detail=detail, errors=errors
    )
    return await _render(request, 422, body)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (404 route not found, 405 method not allowed, …)."""
    assert isinstance(exc, HTTPException)
    body = problem_body(
        status=exc.status_code,
        type_=f"http-{exc.status_code}",
        title=_words(str(exc.detail)) if exc.detail else "Error",
        detail=str(exc.detail),
    )
    return await _render(request, exc.status_code, body, exc.headers)  # e.g. Allow on a 405


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: logged with its trace here, a plain 500 for the client."""
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body = problem_body(
        status=500,
        type_="internal-error",
        title="Internal error",
        detail="something went wrong on our side; nothing was changed",
    )
    return await _render(request, 500, body)


def _words(detail: str) -> str:
    return detail[:1].upper() + detail[1:].lower()


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(BookwiseError, bookwise_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
