"""The REST API under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from bookwise.http.api import me

ROUTERS: tuple[APIRouter, ...] = (me.router,)
