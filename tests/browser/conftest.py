"""The real app under uvicorn on a loopback port, driven by Debian's headless Chromium.

``live_app`` (one per module) serves ``create_app`` from a background thread. ``site`` points
that app at the test's own database (``engine`` from tests/conftest.py: a fresh SQLite file,
or the emptied PostgreSQL database), so each test commits its own data and the server
sees it. ``browser`` is one Chromium per module; ``page`` is a new context (no cookies) per test.

Playwright's own browser download does not work on these machines: the tests launch
/usr/bin/chromium. Without it they skip, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)
from sqlalchemy import Engine, create_engine

from bookwise.auth import service as auth_service
from bookwise.http.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000  # a page of this app answers in milliseconds; waiting longer hides bugs


@dataclass
class LiveApp:
    """The app served on ``base_url``; ``use(engine)`` points it at a database."""

    app: FastAPI
    base_url: str

    def use(self, engine: Engine) -> None:
        """Serve the next requests from ``engine`` (every request reads app.state.engine)."""
        self.app.state.engine = engine


@pytest.fixture(scope="module", autouse=True)
def _quick_password_hashes() -> Iterator[None]:
    """Cheap argon2 parameters in these modules only (undone after each, so later tests see
    the real ones): every test here hashes and checks passwords, at a quarter of a second
    each with the real cost, which tests/http covers."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
        yield


@pytest.fixture(scope="module")
def live_app() -> Iterator[LiveApp]:
    """``create_app`` under uvicorn in a thread, on a free 127.0.0.1 port."""
    placeholder = create_engine("sqlite://")  # `site` replaces it before any request
    app = create_app(placeholder)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 10 s")
        time.sleep(0.01)
    # 127.0.0.1 is loopback: the app sets the session cookie without Secure over plain HTTP.
    yield LiveApp(app=app, base_url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    placeholder.dispose()


@pytest.fixture
def site(live_app: LiveApp, engine: Engine) -> LiveApp:
    """The live app serving this test's database."""
    live_app.use(engine)
    return live_app


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, per module: stopped before the rest of the suite runs."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, with the flags this machine's closed network needs."""
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, site: LiveApp) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1280x800, its base URL the live app.

    After the test, any script error, CSP refusal or 5xx answer in any of the context's
    tabs fails it: those are bugs whatever the test was looking at.
    """
    context = browser.new_context(
        base_url=site.base_url, viewport=DESKTOP, locale="en-GB", timezone_id="UTC"
    )
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    context.on("weberror", lambda error: problems.append(f"script error: {error.error}"))
    context.on("console", lambda message: _console(message, problems))
    context.on("response", lambda response: _response(response, problems))
    yield context.new_page()
    context.close()
    assert not problems, f"the browser saw: {problems}"


def _console(message: ConsoleMessage, problems: list[str]) -> None:
    # An answer with an error status is logged as "Failed to load resource"; 4xx ones are the
    # test's to check (a wrong password is a 401), 5xx ones are caught by _response.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console: {message.text}")


def _response(response: Response, problems: list[str]) -> None:
    if response.status >= 500:
        problems.append(f"{response.status} from {response.request.method} {response.url}")
