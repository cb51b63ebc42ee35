"""The REST API under /api/v1: routes thin over the services (see docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter

from bookwise.http.api import (
    account_changes,
    account_values,
    accounts,
    assignments,
    attributes,
    exports,
    files,
    me,
    operations,
    reports,
    roles,
    rules,
    segments,
    users,
    users_import,
)

ROUTERS: tuple[APIRouter, ...] = (
    me.router,
    accounts.router,
    account_changes.router,
    account_values.router,
    users.router,
    users.csms_router,
    segments.router,
    rules.router,
    assignments.router,
    operations.router,
    operations.books_router,
    files.router,
    exports.router,
    users_import.router,
    attributes.router,
    roles.router,
    reports.router,
)
