"""The server-rendered pages (Jinja2, as little JavaScript as the interactions need)."""

from __future__ import annotations

from fastapi import APIRouter

from bookwise.http.web import (
    account,
    accounts,
    assignment,
    audit,
    mybook,
    operations,
    segments,
    signin,
    users,
)

# /accounts/preview is registered before /accounts/{ref}, /segments/new before /segments/{id}.
ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    assignment.router,
    accounts.router,
    account.router,
    segments.router,
    operations.router,
    audit.router,
    users.router,
    mybook.router,
)
