"""The server-rendered pages (Jinja2, as little JavaScript as the interactions need)."""

from __future__ import annotations

from fastapi import APIRouter

from bookwise.http.web import (
    account,
    account_edit,
    accounts,
    assignment,
    attributes,
    audit,
    exports,
    imports,
    inheritance,
    mybook,
    operations,
    reports,
    rules,
    segments,
    signin,
    tokens,
    users,
)

# /accounts/preview and /accounts/new are registered before /accounts/{ref}, /segments/new
# before /segments/{id}.
ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    assignment.router,
    accounts.router,
    inheritance.router,
    account_edit.router,
    account.router,
    segments.router,
    operations.router,
    audit.router,
    users.router,
    mybook.router,
    imports.router,
    exports.router,
    attributes.router,
    tokens.router,
    rules.router,
    reports.router,
)
