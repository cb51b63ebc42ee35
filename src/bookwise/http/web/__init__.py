"""The server-rendered pages (Jinja2, as little JavaScript as the interactions need)."""

from __future__ import annotations

from fastapi import APIRouter

from bookwise.http.web import signin

ROUTERS: tuple[APIRouter, ...] = (signin.router,)
