"""An upload leaves no file behind, even when the server is killed mid-import (issue 14, 13).

A real server in a subprocess, with its own temporary directory: the upload is sent, the
import starts, the server gets SIGKILL, and the directory must be empty.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.auth.service import create_token
from bookwise.db import write_session
from bookwise.users.service import build_user, cli_user, create_user

IMPORT = "/api/v1/import/accounts"


def _token(engine: Engine) -> str:
    with write_session(engine) as session:
        user = create_user(
            session,
            data=build_user(email="uploader@example.com", role="manager", csm_seat=False),
            actor=cli_user(session),
        )
        return create_token(session, user=user, name="tests", actor=user).secret


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert server.poll() is None, "the server did not start"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not listen")


def _multipart(body: bytes, boundary: str) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_a_killed_import_leaves_no_upload_behind(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    secret = _token(engine)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    rows = "".join(f"K{i},Account {i},{i % 97}.50,emea\n" for i in range(150_000))
    csv = ("external_id,name,mrr,region\n" + rows).encode()  # ~4 MB: spooled to disk
    port = _free_port()
    env = {**os.environ, "BOOKWISE_DATABASE_URL": database_url, "TMPDIR": str(temporary)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bookwise.http.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        _wait_for(port, server)
        boundary = "bookwise-boundary"
        body = _multipart(csv, boundary)
        head = (
            "POST /api/v1/import/accounts HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {secret}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(head + body)
            client.settimeout(2.0)
            time.sleep(2.0)  # the body is read; the import is under way
            try:
                answered = client.recv(1)
            except TimeoutError:
                answered = b""
            assert answered == b"", "the import finished before the kill: make the file bigger"
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)

    assert sorted(p.name for p in temporary.rglob("*")) == []


def test_bad_options_and_cells_are_clear_errors_through_the_api(
    api_as: Callable[..., TestClient],
) -> None:
    client = api_as("manager")
    text = "external_id,name,mrr,renewal_date\nA1,Good,5,01/02/2027\nA2,Huge,1e20,\nA3,N\x00,1,\n"
    upload = {"file": ("cells.csv", text.encode(), "text/csv")}

    for field, value in (("encoding", "base64"), ("date_format", "%d%d")):
        refused = client.post(IMPORT, files=upload, data={field: value})
        assert refused.status_code == 422, refused.text
        assert value in refused.json()["detail"]

    report = client.post(IMPORT, files=upload, data={"date_format": "%d/%m/%Y"}).json()
    assert (report["created"], report["failed"]) == (1, 2)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, "mrr"), (4, "name")]
