"""Rule evaluation against a demo database, beside a hand-written SQL floor for each rule.

    .venv/bin/python bench/rules_quick.py sqlite:///bench-demo.db [--repeat 5]

The database must hold `bookwise demo` data (e.g. `make bench-demo BENCH_DEMO_ACCOUNTS=100000`).
For each rule: compile time (parse, catalog, type check, SQL), then the match count through
bookwise's SQL and through a hand-written query, alternating, median of --repeat runs. The two
counts must be equal before anything is timed. The full benchmark suite is issue 6's.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import func, select, text

from bookwise.db import make_engine, read_session
from bookwise.models import Account, User
from bookwise.segments.rules import compile_where


def floors(email: str) -> list[tuple[str, str]]:
    """(rule, the same question in hand-written SQL)."""
    owner = (
        "SELECT a.account_id FROM assignments a JOIN users u ON u.id = a.user_id "
        f"WHERE a.role = 'csm' AND a.ended_at IS NULL AND u.email = '{email}'"
    )
    return [
        (
            "tier = 1 and health_score < 50",
            "SELECT count(*) FROM accounts WHERE tier = 1 AND health_score < 50",
        ),
        (
            'lifecycle_stage = "onboarding" and mrr > 5000',
            "SELECT count(*) FROM accounts WHERE lifecycle_stage = 'onboarding' AND mrr > 500000",
        ),
        (
            "csm is empty",
            "SELECT count(*) FROM accounts c WHERE NOT EXISTS (SELECT 1 FROM assignments a "
            "JOIN users u ON u.id = a.user_id WHERE a.account_id = c.id AND a.role = 'csm' "
            "AND a.ended_at IS NULL AND u.active)",
        ),
        (
            f'is_child and parent.csm = "{email}"',
            f"SELECT count(*) FROM accounts WHERE parent_id IN ({owner})",
        ),
        (
            f'csm = "{email}" and company level is 1',
            f"SELECT count(*) FROM accounts WHERE id IN ({owner}) "
            "AND id IN (SELECT parent_id FROM accounts WHERE parent_id IS NOT NULL)",
        ),
        (
            "not (tier = 1 and health_score < 50)",
            "SELECT count(*) FROM accounts WHERE tier IS NULL OR tier <> 1 "
            "OR health_score IS NULL OR health_score >= 50",
        ),
        (
            "any child (health_score < 30)",
            "SELECT count(*) FROM accounts WHERE id IN "
            "(SELECT parent_id FROM accounts WHERE parent_id IS NOT NULL AND health_score < 30)",
        ),
    ]


def main() -> None:
    """Print one line per rule: compile ms, bookwise ms, floor ms, ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engine = make_engine(args.url)
    with read_session(engine) as session:
        total = session.scalar(select(func.count()).select_from(Account))
        email = session.scalar(
            select(User.email).where(User.csm_seat.is_(True)).order_by(User.id).limit(1)
        )
        print(f"{engine.dialect.name}, {total:,} accounts; CSM {email}")
        print(f"{'rule':55} {'compile':>8} {'bookwise':>9} {'floor':>9} {'ratio':>6}")
        for rule, floor_sql in floors(str(email)):
            start = time.perf_counter()
            where = compile_where(session, rule).where
            compiled_ms = (time.perf_counter() - start) * 1000
            ours = select(func.count()).select_from(Account).where(where)
            assert session.scalar(ours) == session.scalar(text(floor_sql)), rule
            mine, theirs = [], []
            for _ in range(args.repeat):
                start = time.perf_counter()
                session.scalar(ours)
                mine.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                session.scalar(text(floor_sql))
                theirs.append((time.perf_counter() - start) * 1000)
            a, b = statistics.median(mine), statistics.median(theirs)
            print(f"{rule[:55]:55} {compiled_ms:8.1f} {a:9.1f} {b:9.1f} {a / b:6.2f}")


if __name__ == "__main__":
    main()
