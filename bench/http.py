"""Scenario 7 (and the HTTP side of scenario 2): the assignment pages through the REST API.

``bookwise serve`` runs as its own process on loopback, exactly as a user starts it; the
clients are threads here with an httpx client each and an API token. Two measurements:

* one client, one request at a time: the median of each page endpoint, beside the median of
  the same call through the service layer (``ONE_CLIENT_REPEAT`` interleaved pairs); the
  difference is what HTTP adds (routing, auth, validation, JSON);
* 8 and 32 clients at once, a bounded number of requests spread over the four pages: p50,
  p95, p99, against ``bookwise serve`` with its default number of workers (one per core).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import select

from bench.context import Target
from bench.harness import Measurement, peak_rss_mib, reset_peak_rss, timed
from bench.reads import RULE_TIER, bookwise_page
from bookwise.auth.service import create_token
from bookwise.cli.web import worker_count
from bookwise.models import User
from bookwise.segments.selection import AccountFilter

# The overhead is a difference of two medians of the same order (page queries of 5-200 ms
# at 1M, which vary by more than the 10 ms sought): 25 interleaved pairs instead of the
# read scenarios' 5-7, so the difference is not mostly noise.
ONE_CLIENT_REPEAT = 25
CONCURRENT_CLIENTS = (8, 32)


def pages(t: Target) -> list[tuple[str, dict[str, str], AccountFilter]]:
    """(name, API query, the same filter for the service layer) per assignment page."""
    return [
        ("assigned", {"assigned_to": t.csm}, AccountFilter(assigned_to=t.csm)),
        (
            "no-one",
            {"not_assigned_to": t.csm, "who": "no-one"},
            AccountFilter(not_assigned_to=t.csm, who="no-one"),
        ),
        (
            "others",
            {"not_assigned_to": t.csm, "who": "others"},
            AccountFilter(not_assigned_to=t.csm, who="others"),
        ),
        (
            "advanced",
            {"not_assigned_to": t.csm, "filter": RULE_TIER},
            AccountFilter(not_assigned_to=t.csm, where=RULE_TIER),
        ),
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(t: Target, workers: int | None = None) -> Iterator[tuple[str, str]]:
    """Start ``bookwise serve`` on the target's database: (base URL, API token).

    ``workers`` None: the command's default, one worker per core, as ``make run`` starts it.
    """
    with t.writing() as session:
        admin = session.scalar(
            select(User)
            .where(User.role == "admin", User.active.is_(True), User.id != t.actor_id)
            .order_by(User.id)
        )
        assert admin is not None, "the demo data has an admin"
        token = create_token(session, user=admin, name=f"bench-{time.time_ns()}", actor=admin)
    port = _free_port()
    env = {**os.environ, "BOOKWISE_DATABASE_URL": t.url}
    command = [sys.executable, "-m", "bookwise", "serve", "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/api/v1/me", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("bookwise serve did not start") from None
                time.sleep(0.2)
        yield base, token.secret
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(client: httpx.Client, query: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/accounts", params={**query, "limit": "50"})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def http_measurements(
    t: Target, *, concurrent_requests: int, workers: int | None = None
) -> list[Measurement]:
    """One client: HTTP vs service layer per page; then 8 and 32 clients: p50/p95/p99."""
    results: list[Measurement] = []
    with server(t, workers) as (base, secret):
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for name, query, filters in pages(t):
                reset_peak_rss()
                body = _get(client, query)
                page = bookwise_page(t, filters)
                assert [row["id"] for row in body["items"]] == [row.id for row in page.items]
                assert body["total"] == page.total, (name, body["total"], page.total)
                over_http: list[float] = []
                service: list[float] = []
                for _ in range(max(t.read_repeat, ONE_CLIENT_REPEAT)):
                    over_http.append(timed(lambda q=query: _get(client, q))[0])
                    service.append(timed(lambda f=filters: bookwise_page(t, f))[0])
                overhead = statistics.median(over_http) - statistics.median(service)
                results.append(
                    Measurement(
                        scenario=f"2 {name} page over HTTP (one client)",
                        kind="http",
                        bookwise_ms=over_http,
                        floor_ms=[],
                        rows=int(body["total"]),
                        peak_rss_mib=peak_rss_mib(),
                        notes={
                            "service_median_ms": round(statistics.median(service), 3),
                            "http_overhead_ms": round(overhead, 3),
                            # The same difference between the fastest runs of each side: a
                            # page query's own spread moves it less than the medians'.
                            "http_overhead_min_ms": round(min(over_http) - min(service), 3),
                        },
                    )
                )
        count = workers or worker_count()
        for clients in CONCURRENT_CLIENTS:
            # At least 8 requests per client, so every client is busy for most of the run.
            requests = max(concurrent_requests, 8 * clients)
            results.append(_concurrent(t, base, headers, requests, clients, workers=count))
    return results


def _concurrent(
    t: Target, base: str, headers: dict[str, str], requests: int, clients: int, *, workers: int
) -> Measurement:
    """``requests`` page requests from ``clients`` threads, round robin over the pages.

    Each client first asks for every page once, untimed: a new connection may land on a
    worker process that has served nothing yet, whose first requests build its statements
    and compile its rules (a server that has run for a minute has done that). The slowest of
    those first requests is kept as ``cold_max_ms``.
    """
    queries = [query for _, query, _ in pages(t)]
    latencies: list[float] = []
    cold: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    timed_from: list[float] = []
    warm = threading.Barrier(clients, action=lambda: timed_from.append(time.perf_counter()))

    def client_loop() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
            for query in queries:
                elapsed, _ = timed(lambda q=query: _get(client, q))
                with lock:
                    cold.append(elapsed)
            warm.wait()  # every client warm before any request is timed
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                query = queries[n % len(queries)]
                elapsed, _ = timed(lambda: _get(client, query))  # noqa: B023 (called at once)
                with lock:
                    latencies.append(elapsed)

    reset_peak_rss()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - timed_from[0]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Measurement(
        scenario=f"7 assignment pages over HTTP, {clients} clients",
        kind="http",
        bookwise_ms=latencies,
        rows=len(latencies),
        peak_rss_mib=peak_rss_mib(),
        notes={
            "p50_ms": round(cuts[49], 1),
            "p95_ms": round(cuts[94], 1),
            "p99_ms": round(cuts[98], 1),
            "requests_per_second": round(len(latencies) / wall, 1),
            "workers": workers,
            "cold_max_ms": round(max(cold), 1),
        },
    )
