"""Time demo-data generation: ``python bench/demo_generation.py URL --accounts N``.

The database must be empty (or, for SQLite, pass ``--fresh`` to delete the file first); it is
migrated to the newest schema before timing. Prints the seconds ``generate_demo`` took, the
process's peak RSS, and the row counts. The machines are shared: the CPU seconds of this
process and the load average say how much of the wall time was waiting for a CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from bookwise.db import make_engine
from bookwise.demo import generate_demo
from bookwise.migrate import upgrade_database


def remove_sqlite_files(url: str) -> None:
    """Delete a SQLite database file and its WAL/SHM companions."""
    database = make_url(url).database
    if not database:
        return
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, initialise the database, generate, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", help="database URL, e.g. sqlite:////tmp/demo1m.db")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--benchmark", action="store_true", help="200 CSMs, ~5%% with two")
    parser.add_argument("--fresh", action="store_true", help="delete a SQLite file first")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.fresh and args.url.startswith("sqlite"):
        remove_sqlite_files(args.url)
    engine = make_engine(args.url)
    upgrade_database(engine)
    rss_before = peak_rss_mib()
    cpu_started = time.process_time()
    started = time.perf_counter()
    summary = generate_demo(
        engine, accounts=args.accounts, seed=args.seed, benchmark=args.benchmark
    )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    engine.dispose()
    figures = {
        "engine": engine.dialect.name,
        "accounts": summary.accounts,
        "users": summary.users,
        "assignments": summary.assignments,
        "seconds": round(wall, 2),
        "cpu_seconds_this_process": round(cpu, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "peak_rss_before_mib": round(rss_before, 1),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
