"""``bookwise serve --workers N``: several worker processes, one listener, one shared state."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bookwise.cli.web import worker_count
from bookwise.config import get_settings
from tests.cli.conftest import Cli
from tests.cli.test_web_commands import SERVE_TIMEOUT, _bookwise, _free_port

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="reads the worker processes from /proc"
)


@dataclass
class Served:
    """A running ``bookwise serve``: its process, address, output file and database."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path
    url: str


def _workers(parent: int) -> list[int]:
    """The worker processes uvicorn spawned under ``parent`` (not its resource tracker)."""
    found = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                found.append(int(child))
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``bookwise serve --workers 2`` on an initialised SQLite file, in its own session."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    assert _bookwise(url, "init").returncode == 0
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "BOOKWISE_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bookwise", "serve", "--port", str(port), "--workers", "2"]
    with log.open("w") as out:
        # Its own process group, as a terminal gives it: Ctrl-C signals the whole group.
        child = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            assert child.poll() is None, f"serve exited early:\n{log.read_text()}"
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"serve did not answer:\n{log.read_text()}"
                time.sleep(0.1)
        yield Served(child, base, log, url)
    finally:
        # The whole group, even when the supervisor is gone: no worker outlives the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


@pytest.mark.slow
def test_serve_runs_the_workers_asked_for_and_ctrl_c_stops_them_all(served: Served) -> None:
    workers = _workers(served.process.pid)
    assert len(workers) == 2, served.log.read_text()
    assert "; 2 workers; Ctrl-C stops)" in served.log.read_text()

    # Each request on a fresh connection may reach either worker: a token created, and then
    # revoked, by another process is seen by both, so nothing is cached per worker.
    assert _bookwise(served.url, "demo-admin").returncode == 0
    created = _bookwise(
        served.url, "tokens", "create", "admin@example.com", "--name", "w", "--format", "json"
    )
    token = json.loads(created.stdout)
    me = f"{served.base}/api/v1/me"
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert {httpx.get(me, headers=headers).status_code for _ in range(12)} == {200}
    assert _bookwise(served.url, "tokens", "revoke", str(token["id"])).returncode == 0
    assert {httpx.get(me, headers=headers).status_code for _ in range(12)} == {401}

    os.killpg(served.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    assert served.process.wait(timeout=SERVE_TIMEOUT) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived Ctrl-C"


@pytest.mark.slow
def test_a_stopped_supervisor_takes_its_workers_with_it(served: Served) -> None:
    # A service manager stops the main process only (systemd's KillMode=mixed, `docker stop`).
    workers = _workers(served.process.pid)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=SERVE_TIMEOUT) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]


def test_the_worker_count_comes_from_the_option_the_setting_or_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOOKWISE_WEB_WORKERS", raising=False)
    get_settings.cache_clear()
    try:
        assert worker_count(3) == 3
        assert worker_count() == len(os.sched_getaffinity(0))
        monkeypatch.setenv("BOOKWISE_WEB_WORKERS", "5")
        get_settings.cache_clear()
        assert worker_count() == 5
        assert worker_count(1) == 1
    finally:
        get_settings.cache_clear()


def test_serve_refuses_zero_workers(cli: Cli) -> None:
    result = cli.run("serve", "--workers", "0")
    assert result.exit_code == 2
    assert "--workers" in result.stderr


@pytest.mark.slow
def test_workers_end_when_their_supervisor_is_killed_outright(served: Served) -> None:
    # kill -9 or the OOM killer: no signal handler runs in the supervisor, and orphaned
    # workers would go on serving the port with nobody to stop them.
    workers = _workers(served.process.pid)
    assert len(workers) == 2
    served.process.kill()
    served.process.wait(timeout=SERVE_TIMEOUT)
    deadline = time.monotonic() + SERVE_TIMEOUT
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived its supervisor"
