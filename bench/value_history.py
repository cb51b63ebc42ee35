"""Value history: bytes per change, and the time of a day's changes, on one database.

Not a test: it measures. ``python -m bench.value_history --url URL --accounts 100000 --days 5``
loads ``accounts`` accounts with their first values (as the demo does), then for each day
changes the health score of a fifth of them (set-based) and writes the history as every write
path does (``record_value_changes``). It prints the size of ``account_values`` with its indexes
after the load and after each day, and the bytes each change added: PostgreSQL's
``pg_total_relation_size`` after a plain VACUUM each day (as autovacuum would run), SQLite's
pages in use from ``dbstat``. The first day on PostgreSQL pays for the closed rows' old
versions; from the second on, the space vacuum freed is reused ("steady").
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session

from bookwise.accounts.history import record_value_changes
from bookwise.db import is_sqlite, make_engine, write_session
from bookwise.migrate import upgrade_database
from bookwise.models import Account, AccountValue

START = datetime(2026, 1, 1, tzinfo=UTC)
STAGES = ("onboarding", "adoption", "renewal", "expansion")
REGIONS = ("EMEA", "AMER", "APAC")


def load(engine: Engine, accounts: int) -> None:
    """``accounts`` accounts with realistic fields, then their first history rows."""
    rows = [
        {
            "name": f"Account {n}",
            "name_fold": f"account {n}",
            "mrr": 10_000 + n * 37 % 500_000,
            "health_score": n * 13 % 101,
            "tier": 1 + n % 3,
            "lifecycle_stage": STAGES[n % 4],
            "region": REGIONS[n % 3],
            "renewal_date": date(2026, 1 + n % 12, 1 + n % 28),
            "nps": (n % 201) - 100 if n % 2 else None,
            "csm_rating": 1 + n % 5 if n % 3 else None,
            "depth": 0,
            "child_count": 0,
            "ownership_version": 0,
            "custom": {},
            "created_at": START,
        }
        for n in range(accounts)
    ]
    with write_session(engine) as session:
        for start in range(0, accounts, 20_000):
            session.execute(insert(Account), rows[start : start + 20_000])
        record_value_changes(session, accounts=None, actor_id=None, source="demo", now=None)


def size(engine: Engine, *, vacuum: bool) -> int:
    """Bytes of account_values and its indexes."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM "
                        "sqlite_master WHERE tbl_name = 'account_values')"
                    )
                ).scalar_one()
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if vacuum:
            conn.execute(text("VACUUM account_values"))
        return int(
            conn.execute(text("SELECT pg_total_relation_size('account_values')")).scalar_one()
        )


def change_a_day(engine: Engine, day: int) -> tuple[int, float]:
    """A fifth of the accounts get a new health score; returns (changes, seconds)."""
    chosen = (Account.id * 7 + day) % 5 == 0
    started = time.perf_counter()
    with write_session(engine) as session:
        session.execute(
            update(Account)
            .where(chosen)
            .values(health_score=(Account.health_score + 1 + day % 50) % 101)
        )
        record_value_changes(
            session,
            accounts=select(Account.id).where(chosen),
            actor_id=None,
            source="import",
            now=START + timedelta(days=day),
        )
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        changes = session.scalar(
            select(func.count()).where(AccountValue.valid_from == START + timedelta(days=day))
        )
    return int(changes or 0), seconds


def main() -> None:
    """Measure and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    engine = make_engine(args.url)
    upgrade_database(engine)
    load(engine, args.accounts)
    with Session(engine) as session:
        first_rows = int(session.scalar(select(func.count()).select_from(AccountValue)) or 0)
    loaded = size(engine, vacuum=True)
    seconds: list[float] = []
    sizes: list[int] = []
    counts: list[int] = []
    for day in range(1, args.days + 1):
        changes, took = change_a_day(engine, day)
        counts.append(changes)
        seconds.append(round(took, 3))
        # As autovacuum would between days: the closed rows' old versions become free space
        # that the next day's rows reuse (the file itself does not shrink).
        sizes.append(size(engine, vacuum=True))
    # Steady state: from the end of day 1, once the space freed by vacuum is being reused.
    steady = (sizes[-1] - sizes[0]) / sum(counts[1:]) if len(sizes) > 1 else None
    figures = {
        "engine": engine.dialect.name,
        "accounts": args.accounts,
        "first_rows": first_rows,
        "bytes_per_first_row": round(loaded / first_rows, 1),
        "changes": sum(counts),
        "bytes_per_change_day_1": round((sizes[0] - loaded) / counts[0], 1),
        "bytes_per_change_steady": round(steady, 1) if steady is not None else None,
        "bytes_per_change_overall": round((sizes[-1] - loaded) / sum(counts), 1),
        "seconds_per_day": seconds,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
