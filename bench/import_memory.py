"""Peak memory and speed of ``bookwise import accounts`` on a generated file.

    .venv/bin/python bench/import_memory.py --rows 1000000 [--database-url URL]

Generates N rows (UTF-8 with BOM, CRLF, quoted names with commas, children before their
parents, an owner on every third row, 1 bad row in 100), then imports them in a fresh
subprocess and prints its peak RSS (``resource.getrusage``) and rows per second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import io, json, resource, sys, time
from pathlib import Path
from sqlalchemy import text
from bookwise.db import make_engine, write_session
from bookwise.importing.accounts import import_accounts
from bookwise.migrate import upgrade_database
from bookwise.users.service import build_user, cli_user, create_user, find_user

url, path = sys.argv[1], Path(sys.argv[2])
engine = make_engine(url)
upgrade_database(engine)
with write_session(engine) as session:
    if find_user(session, "big@example.com") is None:
        data = build_user(email="big@example.com", role="manager", csm_seat=True)
        create_user(session, data=data, actor=cli_user(session))
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
with write_session(engine) as session, open(str(path) + ".errors.csv", "w") as errors:
    report = import_accounts(session, path=path, actor=cli_user(session), errors=errors)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({
    "rows": report.rows_read, "created": report.created, "failed": report.failed,
    "seconds": round(seconds, 1), "rows_per_second": round(report.rows_read / seconds),
    "baseline_rss_mib": round(baseline / 1024, 1), "peak_rss_mib": round(peak / 1024, 1),
}))
"""


def write_file(path: Path, rows: int) -> None:
    """The generated import file (see the module docstring)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("external_id,name,parent_external_id,mrr,health_score,region,csms\r\n")
        for i in range(rows):
            parent = f"N{i - i % 10 + 9}" if i % 10 != 9 else ""
            mrr = "oops" if i % 100 == 50 else f'"{i:,}.{i % 100:02d}"'
            owner = "big@example.com" if i % 3 == 0 else ""
            out.write(f'N{i},"Account {i}, Inc",{parent},{mrr},{i % 101},EMEA,{owner}\r\n')


def main() -> None:
    """Generate, import in a subprocess, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts.csv"
        started = time.perf_counter()
        write_file(path, args.rows)
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        figures = json.loads(
            subprocess.run(
                [sys.executable, "-c", CHILD, url, str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        figures["file_mib"] = round(path.stat().st_size / 2**20, 1)
        figures["database"] = url.split(":", 1)[0]
        figures["generate_seconds"] = round(time.perf_counter() - started - figures["seconds"], 1)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
