"""The web application: ``create_app()`` builds the API (/api/v1), the pages and /static."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from importlib.resources import files

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from bookwise.auth.service import dummy_password_hash
from bookwise.db import get_engine
from bookwise.http import problems
from bookwise.http.api import ROUTERS as API_ROUTERS
from bookwise.http.api.openapi import install as install_openapi
from bookwise.http.context import authorize
from bookwise.http.limits import BodyLimit
from bookwise.http.security import SecurityHeaders
from bookwise.http.web import ROUTERS as WEB_ROUTERS
from bookwise.http.web.templating import configure_templates

API_DESCRIPTION = """\
The bookwise REST API: accounts, users, the CSM overview, segments and rules, and ownership
operations (assign, unassign, transfer, inherit) with preview (`dry_run`), fingerprints and
undo. Authenticate with `Authorization: Bearer <token>` (create a token on the Users page or
with `bookwise tokens create`). Errors are `application/problem+json` (RFC 9457) with a stable
`type`; rule errors carry the `position` in the rule text. Money is a decimal string in
currency units (`"5000.00"`). Listings are `{"items": [...], "total": N, "limit", "offset"}`.
"""


def create_app(engine: Engine | None = None) -> FastAPI:
    """The bookwise web app on ``engine`` (default: the configured database)."""
    app = FastAPI(
        title="bookwise",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # FastAPI's loads Swagger UI from a CDN: http/api/openapi.py serves ours
        redoc_url=None,
        dependencies=[Depends(authorize)],
    )
    app.state.engine = engine or get_engine()
    dummy_password_hash()  # now, not during the first sign-in of an unknown email (timing)
    templates = Jinja2Templates(directory=str(files("bookwise").joinpath("templates")))
    configure_templates(templates)
    app.state.templates = templates
    # The last one added runs first: the headers go on every answer, the body limit's too.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    problems.install(app)
    for router in (*API_ROUTERS, *WEB_ROUTERS):
        app.include_router(router)
    install_openapi(app)
    app.mount(
        "/static", StaticFiles(directory=str(files("bookwise").joinpath("static"))), name="static"
    )
    return app


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def create_worker_app() -> FastAPI:
    """The app in one worker process of ``bookwise serve --workers N`` (N > 1).

    The worker ends with its supervisor: if the supervisor is killed outright (``kill -9``,
    the OOM killer), its workers get SIGTERM and shut down instead of serving on, orphaned.
    """
    supervisor = multiprocessing.parent_process()
    if sys.platform == "linux" and supervisor is not None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != supervisor.pid:  # it died before the line above: end now
            os.kill(os.getpid(), signal.SIGTERM)
    return create_app()
