"""Concurrent ownership changes on PostgreSQL: throughput, latency and deadlocks by clients.

Not a test: it measures. ``python -m bench.concurrency --clients 1 8 32 --seconds 20`` builds a
fresh database of families (a parent and three children that inherit its CSMs), then lets
each client assign and unassign random CSMs on four random accounts at a time, parents and
children mixed, so that operations cross families. Every operation runs through
``bookwise.db.run_write``, which retries a deadlock or serialization failure; the figures are
per completed operation, retries included, and the deadlocks PostgreSQL broke are counted.
Results are printed as a Markdown table (docs/performance.md keeps them).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import bookwise.db
from bookwise.accounts.service import build_fields, create_account
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.db import make_engine, run_write, write_session
from bookwise.migrate import upgrade_database
from bookwise.models import Account, User
from bookwise.users.service import build_user, cli_user, create_user

DATABASE = "bookwise_bench_concurrency"
CSMS = 16
CHILDREN = 3


@dataclass
class Row:
    """One client count's figures."""

    clients: int
    operations: int
    seconds: float
    p50: float
    p95: float
    p99: float
    deadlocks: int
    retries: int

    def markdown(self) -> str:
        rate = self.operations / self.seconds
        return (
            f"| {self.clients} | {self.operations:,} | {rate:,.1f} | {self.p50:,.1f} | "
            f"{self.p95:,.1f} | {self.p99:,.1f} | {self.deadlocks:,} | {self.retries:,} |"
        )


def fresh_database(server: str) -> str:
    """Drop and create the bench database on ``server`` (a postgresql URL); return its URL."""
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return f"{server}/{DATABASE}"


def build(url: str, families: int, seed: int) -> tuple[list[int], list[int]]:
    """Users and families; each parent owned by a random CSM. Returns (user ids, account ids)."""
    engine = make_engine(url)
    upgrade_database(engine)
    rng = random.Random(seed)
    with write_session(engine) as session:
        me = cli_user(session)
        users = [
            create_user(
                session,
                data=build_user(email=f"csm{n}@example.com", name=f"CSM {n}", csm_seat=True),
                actor=me,
            )
            for n in range(CSMS)
        ]
        parents = []
        for n in range(families):
            parent = create_account(session, fields=build_fields(name=f"Family {n}"), actor=me)
            parents.append(parent)
            for c in range(CHILDREN):
                create_account(
                    session,
                    fields=build_fields(name=f"Family {n} child {c}", inherit_policy="inherit"),
                    parent=parent,
                    actor=me,
                )
        books: dict[int, list[str]] = {}
        for parent in parents:
            books.setdefault(rng.randrange(CSMS), []).append(f"#{parent.id}")
        for n, refs in books.items():
            assign_accounts(session, selection=AccountRefs(refs), csms=[users[n]], actor=me)
        user_ids = [u.id for u in users]
        account_ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    engine.dispose()
    return user_ids, account_ids


def work_for(rng: random.Random, users: list[int], accounts: list[int]) -> Callable[[Session], Any]:
    """One random operation: assign or unassign a CSM on four random accounts."""
    refs = AccountRefs([f"#{n}" for n in rng.sample(accounts, 4)])
    csm_id = rng.choice(users)
    unassign = rng.random() < 0.5

    def work(session: Session) -> Any:
        csm = session.get(User, csm_id)
        assert csm is not None
        me = cli_user(session)
        if unassign:
            return unassign_accounts(session, selection=refs, csm=csm, actor=me)
        return assign_accounts(session, selection=refs, csms=[csm], actor=me)

    return work


def measure(
    url: str, clients: int, seconds: float, users: list[int], accounts: list[int], seed: int
) -> Row:
    """Run ``clients`` threads for ``seconds``; each its own engine (one connection)."""
    counts = {"deadlocks": 0, "retries": 0}
    lock = threading.Lock()
    original = bookwise.db.is_retryable

    def counting(exc: DBAPIError) -> bool:
        retry = bool(original(exc))
        if retry:
            with lock:
                counts["retries"] += 1
                counts["deadlocks"] += "deadlock" in str(exc).lower()
        return retry

    bookwise.db.is_retryable = counting
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        engine = make_engine(url)
        rng = random.Random(seed * 1000 + n)
        mine: list[float] = []
        while time.monotonic() < deadline:
            start = time.perf_counter()
            run_write(engine, work_for(rng, users, accounts))
            mine.append((time.perf_counter() - start) * 1000)
        engine.dispose()
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    bookwise.db.is_retryable = original
    cuts = statistics.quantiles(latencies, n=100)
    return Row(
        clients=clients,
        operations=len(latencies),
        seconds=elapsed,
        p50=statistics.median(latencies),
        p95=cuts[94],
        p99=cuts[98],
        deadlocks=counts["deadlocks"],
        retries=counts["retries"],
    )


def main() -> None:
    """Build the database, measure each client count, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--families", type=int, default=250)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url = fresh_database(args.server)
    users, accounts = build(url, args.families, args.seed)
    print(f"{len(accounts):,} accounts in {args.families:,} families, {len(users)} CSMs")
    print("| clients | operations | per second | p50 ms | p95 ms | p99 ms | deadlocks | retries |")
    print("|---|---|---|---|---|---|---|---|")
    for clients in args.clients:
        print(
            measure(url, clients, args.seconds, users, accounts, args.seed).markdown(), flush=True
        )


if __name__ == "__main__":
    main()
