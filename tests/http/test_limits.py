"""Request bodies: the caller is known before a byte of the body is read, and bodies are limited.

An anonymous caller, or one whose role does not allow the route, is answered (401, 403)
without the body being read: against a real server (uvicorn in a thread), a request that
announces 100 MB and sends a few bytes gets its answer at once, and no upload reaches a
temporary file. A body larger than its limit is a 413 (a problem document for the API, an
error page for the pages): at once when Content-Length says so, and as the bytes arrive when
the body is chunked.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from bookwise.auth.service import create_token
from bookwise.config import get_settings
from bookwise.db import read_session, write_session
from bookwise.http.app import create_app
from bookwise.models import Account
from bookwise.users.service import build_user, cli_user, create_user
from tests.factories import make_account, make_user
from tests.http.conftest import SignedIn

MIB = 1024 * 1024
ANNOUNCED = 100_000_000  # what the request claims to send: it sends a few bytes only
PROMPT = 5.0  # seconds: the answer comes at once, or the server is waiting for the body
ASSIGN = "/api/v1/assignments/assign"
IMPORT = "/api/v1/import/accounts"
BOUNDARY = "bookwiseboundary"


@dataclass
class Live:
    """The app under uvicorn on 127.0.0.1:``port``."""

    app: FastAPI
    port: int

    @property
    def base_url(self) -> str:
        """The server's address."""
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def live_server() -> Iterator[Live]:
    """``create_app`` served by uvicorn from a thread; each test points it at its database."""
    placeholder = create_engine("sqlite://")
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
    yield Live(app=app, port=port)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    placeholder.dispose()


@pytest.fixture
def live(live_server: Live, engine: Engine) -> Live:
    """The live server on this test's database."""
    live_server.app.state.engine = engine
    return live_server


def _token(engine: Engine, role: str) -> str:
    with write_session(engine) as session:
        user = create_user(
            session,
            data=build_user(email=f"{role}-token@example.com", role=role),
            actor=cli_user(session),
        )
        return create_token(session, user=user, name="limits", actor=user).secret


def _partial_request(
    live: Live, method: str, path: str, headers: dict[str, str], first: bytes
) -> tuple[int, dict[str, str], float]:
    """Send the head and ``first`` bytes of a body, then wait for the answer's status line."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.port), timeout=PROMPT) as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        sock.sendall(head.encode() + b"\r\n" + first)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pytest.fail(f"no answer within {PROMPT} s: the server is waiting for the body")
    status_line, *lines = answer.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    found = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), found, time.monotonic() - started


def _open_temporary_files(folder: Path) -> list[str]:
    """Files of this process open under ``folder`` (a spooled upload is unlinked at once, so
    only its open descriptor shows it)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


def _multipart_head(size: int) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
        "external_id,name\r\n"
    ).encode() + b"x" * size


# --- authenticate first ------------------------------------------------------------------------


def test_an_anonymous_json_body_is_refused_before_it_is_read(live: Live) -> None:
    status, headers, _ = _partial_request(
        live,
        "POST",
        ASSIGN,
        {"Content-Type": "application/json", "Content-Length": str(ANNOUNCED)},
        b'{"ids": ["A1"], "to": ["ana@exa',
    )
    assert status == 401
    assert headers["content-type"].startswith("application/problem+json")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_an_anonymous_upload_is_refused_before_anything_is_written(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    opened: list[str] = []
    answered = threading.Event()

    def watch() -> None:  # while the request is in flight
        while not answered.wait(0.01):
            opened.extend(_open_temporary_files(spool))

    watcher = threading.Thread(target=watch)
    watcher.start()
    status, _, _ = _partial_request(
        live,
        "POST",
        IMPORT,
        {
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(ANNOUNCED),
        },
        _multipart_head(2 * MIB),  # past the 1 MB a spooled upload keeps in memory
    )
    answered.set()
    watcher.join()
    assert status == 401
    assert opened == []
    assert list(spool.iterdir()) == []


def test_an_anonymous_form_is_sent_to_sign_in_before_it_is_read(live: Live) -> None:
    status, headers, _ = _partial_request(
        live,
        "POST",
        "/accounts/preview",
        {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(ANNOUNCED)},
        b"refs=A1&refs=A2&action=assign",
    )
    assert status == 303
    assert headers["location"] == "/login"


def test_a_role_that_may_not_import_is_refused_before_the_upload_is_read(
    live: Live, engine: Engine
) -> None:
    viewer = _token(engine, "viewer")
    status, headers, _ = _partial_request(
        live,
        "POST",
        IMPORT,
        {
            "Authorization": f"Bearer {viewer}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(50 * MIB),
        },
        _multipart_head(1000),
    )
    assert status == 403
    assert headers["content-type"].startswith("application/problem+json")


# --- limits ------------------------------------------------------------------------------------


def test_a_json_body_announced_too_large_is_a_413_at_once(live: Live, engine: Engine) -> None:
    manager = _token(engine, "manager")
    status, headers, _ = _partial_request(
        live,
        "POST",
        ASSIGN,
        {
            "Authorization": f"Bearer {manager}",
            "Content-Type": "application/json",
            "Content-Length": str(2 * MIB),
        },
        b'{"ids": [',
    )
    assert status == 413
    assert headers["content-type"].startswith("application/problem+json")


def test_a_chunked_json_body_is_stopped_at_its_limit(live: Live, engine: Engine) -> None:
    manager = _token(engine, "manager")
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"ids": ['
        for _ in range(64):  # 4 MiB in all, four times the limit
            piece = b'"A1",' * 13107
            sent += len(piece)
            yield piece
        yield b'"A1"], "to": ["ana@example.com"]}'

    with httpx.Client(base_url=live.base_url, timeout=PROMPT) as client:
        try:
            response = client.post(
                ASSIGN,
                content=chunks(),
                headers={"Authorization": f"Bearer {manager}", "Content-Type": "application/json"},
            )
        except httpx.TransportError:
            pytest.fail("the connection broke instead of a 413")
    assert response.status_code == 413, response.text
    problem = response.json()
    assert problem["type"].endswith("/request-too-large")
    assert "BOOKWISE_MAX_BODY_MIB" in problem["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"  # SecurityHeaders' too


def test_the_limits_come_from_the_settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(engine)
    token = _token(engine, "manager")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    ids = b",".join(b'"%038d"' % n for n in range(30_000))  # 1.2 MiB, fewer than 50,000 ids
    body = b'{"ids": [' + ids + b'], "to": ["nobody@example.com"]}'
    assert MIB < len(body) < 2 * MIB
    assert (
        client.post(ASSIGN, content=body, headers={"Content-Type": "application/json"}).status_code
        == 413
    )
    monkeypatch.setattr(get_settings(), "max_body_mib", 2)
    # Within the raised limit: read, and refused for what it says (no such user), not its size.
    answer = client.post(ASSIGN, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 404, answer.text


def _csv(rows: int) -> bytes:
    """``rows`` accounts, each line about 1 KiB long (most of it a column the import ignores)."""
    notes = "n" * 1000
    lines = ["external_id,name,notes"] + [f"UP-{n:07d},Account {n},{notes}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_an_upload_may_be_larger_than_a_json_body_up_to_its_own_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(engine)
    token = _token(engine, "manager")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    file = _csv(2_000)  # about 2 MiB: over the JSON limit, under the upload limit
    assert len(file) > 1.5 * MIB
    ok = client.post(IMPORT, files={"file": ("big.csv", file, "text/csv")})
    assert ok.status_code == 200, ok.text
    assert ok.json()["created"] == 2_000
    monkeypatch.setattr(get_settings(), "max_upload_mib", 1)
    refused = client.post(IMPORT, files={"file": ("big2.csv", _csv(3_000), "text/csv")})
    assert refused.status_code == 413, refused.text
    assert "BOOKWISE_MAX_UPLOAD_MIB" in refused.json()["detail"]
    with read_session(engine) as session:
        assert session.query(Account).count() == 2_000


def test_a_chunked_upload_is_stopped_at_its_limit(
    live: Live, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_mib", 1)
    manager = _token(engine, "manager")

    def chunks() -> Iterator[bytes]:
        yield _multipart_head(0)
        for _ in range(32):  # 4 MiB
            yield b"UP-1,Uploaded account\r\n" * 5000
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    with httpx.Client(base_url=live.base_url, timeout=PROMPT) as client:
        try:
            response = client.post(
                IMPORT,
                content=chunks(),
                headers={
                    "Authorization": f"Bearer {manager}",
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                },
            )
        except httpx.TransportError:
            pytest.fail("the connection broke instead of a 413")
    assert response.status_code == 413, response.text
    with read_session(engine) as session:
        assert session.query(Account).count() == 0


def test_a_page_form_too_large_is_a_413_page(
    engine: Engine, as_role: Callable[..., SignedIn]
) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_account(session, external_id="A1")
    manager = as_role("manager")
    response = manager.client.post(
        "/accounts/preview",
        data={"csrf_token": manager.csrf, "action": "assign", "refs": ["A1"] * 200_000},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "too large" in response.text.lower()
