"""The web app's commands: serve, users set-password, users add --password-stdin, tokens,
demo-admin."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bookwise import db
from bookwise.auth.service import SignInFailed, authenticate, token_user
from bookwise.models import User
from tests.cli.conftest import Cli

PASSWORD = "correct horse battery"
SERVE_TIMEOUT = 60.0  # seconds to wait for `bookwise serve` to answer (a loaded CI machine)


def _signs_in(email: str, password: str) -> bool:
    with db.write_session(db.get_engine()) as session:
        try:
            authenticate(session, email=email, password=password, address="test")
        except SignInFailed:
            return False
    return True


def _password_hash(email: str) -> str | None:
    with db.read_session(db.get_engine()) as session:
        return session.scalar(select(User.password_hash).where(User.email == email))


def _token_owner(secret: str) -> str | None:
    with db.read_session(db.get_engine()) as session:
        user = token_user(session, secret)
        return user.email if user else None


# --- serve -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _bookwise(
    url: str, *args: str, timeout: float = SERVE_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOOKWISE_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bookwise", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A temporary SQLite database, initialised (whatever database the suite runs on)."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    done = _bookwise(url, "init")
    assert done.returncode == 0, done.stderr
    return url


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``bookwise serve`` on a free port in a child process: (base URL, its output file)."""
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "BOOKWISE_DATABASE_URL": sqlite_url, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "bookwise", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
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
        yield base, log
    finally:
        child.terminate()  # SIGTERM: uvicorn shuts down gracefully
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.mark.slow
def test_serve_runs_the_web_app_and_prints_its_address(server: tuple[str, Path]) -> None:
    base, log = server
    response = httpx.get(f"{base}/login", timeout=10)
    assert response.status_code == 200
    assert "Sign in" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert "server" not in response.headers  # no software banner
    assert httpx.get(f"{base}/api/v1/me", timeout=10).status_code == 401
    assert f"bookwise is running at {base}/" in log.read_text()


def test_serve_refuses_an_uninitialised_database(tmp_path: Path) -> None:
    done = _bookwise(f"sqlite:///{tmp_path / 'empty.db'}", "serve", "--port", str(_free_port()))
    assert done.returncode == 1
    assert "is not initialised: run `bookwise init` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_answers_small_responses_without_waiting_for_delayed_acks() -> None:
    # Headers and body of a response are two writes: with Nagle on, the second waited for
    # the client's delayed ACK, +40 ms on every kept-alive request. Connections the server
    # accepts must carry TCP_NODELAY (inherited from the listener on Linux).
    from bookwise.cli.web import _listen

    listener = _listen("127.0.0.1", _free_port())
    with listener, socket.create_connection(listener.getsockname()[:2]):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_serve_refuses_a_busy_port_in_one_line(sqlite_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _bookwise(sqlite_url, "serve", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot listen on 127.0.0.1 port {port}: ")
    assert "choose another with --port" in done.stderr
    assert "running at" not in done.stdout


# --- passwords ---------------------------------------------------------------------------------


def test_set_password_asks_twice_without_echo(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    result = cli.ok("users", "set-password", "ana@example.com", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert "Repeat for confirmation" in result.output
    assert "password set for ana@example.com" in result.stdout
    assert _signs_in("ana@example.com", PASSWORD)
    assert _password_hash("ana@example.com").startswith("$argon2id$")  # type: ignore[union-attr]


def test_set_password_asks_again_when_the_two_differ(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    typed = f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n"
    result = cli.ok("users", "set-password", "ana@example.com", input=typed)
    assert "do not match" in result.output
    assert _signs_in("ana@example.com", PASSWORD)


def test_set_password_from_stdin_reads_one_line(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    cli.ok(
        "users", "set-password", "ana@example.com", "--password-stdin", input=f"{PASSWORD}\nrest\n"
    )
    assert _signs_in("ana@example.com", PASSWORD)
    assert not _signs_in("ana@example.com", PASSWORD + "\n")


def test_set_password_refusals_write_nothing(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    cli.ok("users", "add", "max@example.com", "--role", "manager")
    result = cli.run(
        "users", "set-password", "ana@example.com", "--password-stdin", input="short\n"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: a password needs at least 10 characters"
    result = cli.run("users", "set-password", "ana@example.com", "--password-stdin", input="\n")
    assert "--password-stdin read no password" in result.stderr
    # Who may not do it is told before being asked for a password.
    result = cli.run("--as", "max@example.com", "users", "set-password", "ana@example.com")
    assert result.exit_code == 1
    assert "max@example.com is a manager; this needs the admin role" in result.stderr
    assert "Password" not in result.output
    assert cli.fails("users", "set-password", "nobody@example.com") == (
        "error: no user with email nobody@example.com"
    )
    assert _password_hash("ana@example.com") is None


def test_users_add_with_password_stdin_can_sign_in(cli: Cli) -> None:
    result = cli.ok(
        "users", "add", "ana@example.com", "--role", "admin", "--password-stdin", input=PASSWORD
    )
    assert "added user ana@example.com (admin, without a CSM seat, with a password)" in (
        result.stdout
    )
    assert _signs_in("ana@example.com", PASSWORD)


def test_users_add_with_a_bad_password_adds_no_one(cli: Cli) -> None:
    result = cli.run("users", "add", "ana@example.com", "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert "at least 10 characters" in result.stderr
    assert cli.json("users", "list")["total"] == 0


# --- tokens ------------------------------------------------------------------------------------


def test_tokens_create_prints_the_secret_once_and_it_works(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    result = cli.ok("tokens", "create", "ana@example.com", "--name", "nightly sync")
    lines = result.stdout.splitlines()
    assert lines[0] == "created API token 1 (nightly sync) for ana@example.com"
    secret = lines[2]
    assert secret.startswith("bw_")
    assert _token_owner(secret) == "ana@example.com"
    listed = cli.ok("tokens", "list").stdout
    assert "nightly sync" in listed
    assert secret not in listed
    assert secret[:10] in listed  # the prefix tells tokens apart


def test_tokens_create_json_for_scripts(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    created = json.loads(
        cli.ok("tokens", "create", "ana@example.com", "--name", "ci", "--format", "json").stdout
    )
    assert created["user"] == "ana@example.com"
    assert created["status"] == "active"
    assert _token_owner(created["token"]) == "ana@example.com"
    listed = cli.json("tokens", "list", "ana@example.com")
    assert listed["total"] == 1
    assert "token" not in listed["items"][0]
    assert listed["items"][0]["id"] == created["id"]


def test_tokens_list_filters_by_user_newest_first(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    cli.ok("users", "add", "ben@example.com")
    cli.ok("tokens", "create", "ana@example.com", "--name", "one")
    cli.ok("tokens", "create", "ben@example.com", "--name", "two")
    cli.ok("tokens", "create", "ana@example.com", "--name", "three")
    assert [t["name"] for t in cli.json("tokens", "list")["items"]] == ["three", "two", "one"]
    anas = cli.json("tokens", "list", "ANA@example.com")["items"]
    assert [(t["name"], t["user"]) for t in anas] == [
        ("three", "ana@example.com"),
        ("one", "ana@example.com"),
    ]
    assert cli.fails("tokens", "list", "nobody@example.com") == (
        "error: no user with email nobody@example.com"
    )


def test_tokens_revoke_kills_the_token(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    created = json.loads(
        cli.ok("tokens", "create", "ana@example.com", "--name", "ci", "--format", "json").stdout
    )
    result = cli.ok("tokens", "revoke", str(created["id"]))
    assert result.stdout.strip() == f"revoked API token {created['id']} (ci, of ana@example.com)"
    assert _token_owner(created["token"]) is None
    listed = cli.json("tokens", "list")["items"][0]
    assert listed["status"] == "revoked"
    assert listed["revoked_at"]
    again = cli.ok("tokens", "revoke", str(created["id"]))
    assert "was already revoked" in again.stdout
    assert cli.fails("tokens", "revoke", "999") == (
        "error: no API token 999 (see `bookwise tokens list`)"
    )


def test_tokens_need_an_admin_and_an_active_user(cli: Cli) -> None:
    cli.ok("users", "add", "ana@example.com")
    cli.ok("users", "add", "max@example.com", "--role", "manager")
    cli.ok("users", "deactivate", "ana@example.com")
    line = cli.fails("tokens", "create", "ana@example.com", "--name", "x")
    assert "inactive or built in and cannot have API tokens" in line
    line = cli.fails(
        "--as", "max@example.com", "tokens", "create", "max@example.com", "--name", "x"
    )
    assert "this needs the admin role" in line
    assert cli.json("tokens", "list")["total"] == 0


# --- demo-admin --------------------------------------------------------------------------------


def test_demo_admin_is_idempotent_and_prints_working_credentials(cli: Cli) -> None:
    first = cli.ok("demo-admin").stdout
    assert "created the demo admin admin@example.com (admin, with a CSM seat)" in first
    assert "sign in to the web app as admin@example.com with the password bookwise-demo" in first
    second = cli.ok("demo-admin").stdout
    assert "the demo admin admin@example.com is ready" in second
    assert _signs_in("admin@example.com", "bookwise-demo")
    users = cli.json("users", "list")["items"]
    assert [(u["email"], u["role"], u["csm_seat"]) for u in users] == [
        ("admin@example.com", "admin", True)
    ]


def test_demo_admin_refuses_a_changed_password_unless_reset(cli: Cli) -> None:
    cli.ok("demo-admin")
    cli.ok("users", "set-password", "admin@example.com", "--password-stdin", input=PASSWORD)
    line = cli.fails("demo-admin")
    assert "admin@example.com already exists with another password" in line
    assert "`bookwise demo-admin --reset`" in line
    assert _signs_in("admin@example.com", PASSWORD)
    assert "password reset" in cli.ok("demo-admin", "--reset").stdout
    assert _signs_in("admin@example.com", "bookwise-demo")


def test_demo_admin_refuses_an_existing_user_without_a_password(cli: Cli) -> None:
    cli.ok("users", "add", "admin@example.com", "--role", "viewer")
    assert "already exists with another password" in cli.fails("demo-admin")
    out = cli.ok("demo-admin", "--reset").stdout
    assert "password reset, made admin, CSM seat given" in out
