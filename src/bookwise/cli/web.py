"""The web app from the command line: ``bookwise serve`` and ``bookwise demo-admin``."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from bookwise.auth.demo import DemoAdmin, ensure_demo_admin
from bookwise.cli.output import say
from bookwise.cli.runtime import database_label, reading, resolve_actor, writing
from bookwise.config import get_settings
from bookwise.errors import Refused
from bookwise.users.service import cli_user

# The CLI and the HTTP layer are siblings that never import each other: uvicorn loads the app
# by name, in the process this command starts.
APP_FACTORY = "bookwise.http.app:create_app"
WORKER_APP_FACTORY = "bookwise.http.app:create_worker_app"  # ends with its supervisor
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="ADDRESS",
            help="The address to listen on (0.0.0.0 for every interface; then use HTTPS).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", metavar="N", min=1, max=65535, help="The TCP port.")
    ] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            min=1,
            help="Worker processes answering requests (default: BOOKWISE_WEB_WORKERS, else "
            "one per CPU core).",
        ),
    ] = None,
) -> None:
    """Start the web app and the REST API, and print the address to open; Ctrl-C stops it."""
    import uvicorn  # only this command needs the server

    with reading() as session:  # an uninitialised database fails here, in one clear line
        cli_user(session)
    count = worker_count(workers)
    listener = _listen(host, port)
    config = uvicorn.Config(
        APP_FACTORY if count == 1 else WORKER_APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=count,
        log_level="info",
        proxy_headers=True,
        server_header=False,
    )
    plural = "worker" if count == 1 else "workers"
    say(
        f"bookwise is running at {_url(host, port)}  (database {database_label()}; "
        f"{count} {plural}; Ctrl-C stops)"
    )
    if host not in LOOPBACK_HOSTS and get_settings().cookie_secure is None:
        say(
            "note: off loopback the session cookie is Secure, so browsers sign in over HTTPS "
            "only: put a TLS proxy in front (see docs/deploying.md)"
        )
    if count == 1:
        uvicorn.Server(config).run(sockets=[listener])
        return
    from uvicorn.supervisors import Multiprocess

    # Each worker is a fresh (spawned, not forked) process that imports the app factory and
    # builds its own app, engine and pools: nothing but the listening socket is shared, so
    # every accepted connection still inherits its TCP_NODELAY. Ctrl-C (or SIGTERM) reaches
    # this supervisor, which stops every worker and waits for them before it returns.
    Multiprocess(config, sockets=[listener]).run()


def worker_count(requested: int | None = None) -> int:
    """``--workers``, else ``BOOKWISE_WEB_WORKERS``, else the CPU cores this process may use."""
    if requested:
        return requested
    configured = get_settings().web_workers
    if configured:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port before saying where we are, so that a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise Refused(
            f"cannot listen on {host} port {port}: {reason}; choose another with --port"
        ) from None
    # Accepted connections inherit TCP_NODELAY on Linux. Without it a small JSON response
    # (headers and body are two writes) waits for the client's delayed ACK: +40 ms on every
    # request after the first on a kept-alive connection (measured with httpx on loopback).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def _url(host: str, port: int) -> str:
    # Every interface includes loopback, the address a browser on this machine can open.
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def demo_admin(
    reset: Annotated[
        bool,
        typer.Option(
            "--reset", help="Set the demo password again if admin@example.com has another one."
        ),
    ] = False,
) -> None:
    """Make sure admin@example.com exists as an admin with a CSM seat and the demo password.

    For trying bookwise (make run uses it). Never run it on a real installation: anyone who
    has read this help can sign in as that user.
    """

    def work(session: Session) -> DemoAdmin:
        return ensure_demo_admin(session, reset=reset, actor=resolve_actor(session, admin=True))

    done = writing(work)
    if done.created:
        say(f"created the demo admin {done.email} (admin, with a CSM seat)")
    elif done.changes:
        say(f"demo admin {done.email}: {', '.join(done.changes)}")
    else:
        say(f"the demo admin {done.email} is ready")
    say(f"sign in to the web app as {done.email} with the password {done.password}")
