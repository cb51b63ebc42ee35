"""Routes that declare their role where they are defined: ``@get(router, "/x", role="viewer")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from bookwise.http.roles import Role, declare

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

UPLOADS: set[tuple[str, str]] = set()
"""(method, path template) of the routes that take a file upload: their body may be as large as
``max_upload_mib``, every other body ``max_body_mib`` (bookwise.http.limits)."""


def route(
    router: APIRouter, method: str, path: str, *, role: Role, upload: bool = False, **options: Any
) -> Decorator:
    """Register ``method path`` on ``router`` and declare the least role that may call it
    (and, with ``upload``, that its body is a file upload)."""
    declare(method, router.prefix + path, role)
    if upload:
        UPLOADS.add((method.upper(), router.prefix + path))
    return router.api_route(path, methods=[method.upper()], **options)


def get(router: APIRouter, path: str, *, role: Role, **options: Any) -> Decorator:
    """A GET route with its role."""
    return route(router, "GET", path, role=role, **options)


def post(
    router: APIRouter, path: str, *, role: Role, upload: bool = False, **options: Any
) -> Decorator:
    """A POST route with its role (``upload``: its body is a file upload)."""
    return route(router, "POST", path, role=role, upload=upload, **options)


def patch(router: APIRouter, path: str, *, role: Role, **options: Any) -> Decorator:
    """A PATCH route with its role."""
    return route(router, "PATCH", path, role=role, **options)


def delete(router: APIRouter, path: str, *, role: Role, **options: Any) -> Decorator:
    """A DELETE route with its role."""
    return route(router, "DELETE", path, role=role, **options)
