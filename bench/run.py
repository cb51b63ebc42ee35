"""Run the benchmark suite on one engine at one or more sizes; write a results JSON file.

    python -m bench.run --engine sqlite --accounts 100000 --quick        # make bench-quick
    python -m bench.run --engine postgresql --accounts 100000 1000000   # part of make bench

For each size: generate the demo data (scenario 8, timed beside a plain copy), then run
scenarios 1–7 and, at 100k, the per-record contrast row against it. The file
``bench/results/<date>-<engine>[-quick].json`` holds every timing; ``python -m
bench.report`` turns the newest files into the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import bulk, contrast, demo, files, http, reads, segments
from bench.context import open_target
from bench.harness import Measurement, measure

RESULTS = Path(__file__).parent / "results"
GROUPS = frozenset(
    ("demo", "reads", "pages", "rules", "bulk", "segments", "files", "http", "contrast")
)
POSTGRES = "postgresql://postgres@127.0.0.1:5432/"


def database_url(engine: str, accounts: int, data_dir: Path, purpose: str = "demo") -> str:
    """Where the data for one size lives: a file in ``data_dir``, or a PostgreSQL database."""
    if engine == "sqlite":
        return f"sqlite:///{data_dir / f'bench-{purpose}-{accounts}.db'}"
    base = os.environ.get("BOOKWISE_BENCH_POSTGRES", POSTGRES)
    return make_url(base).set(database=f"bw_bench_{purpose}_{accounts}").render_as_string(False)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = f"{len(names)} × {names[0]}" if names else cpu
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    import sqlite3

    info = {
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    with contextlib.suppress(OSError):
        info["postgresql"] = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    with contextlib.suppress(OSError):
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return info


def run_size(
    engine: str,
    accounts: int,
    *,
    data_dir: Path,
    quick: bool,
    log: Any,
    results: list[dict[str, Any]],
    only: frozenset[str] = GROUPS,
    keep_data: bool = False,
) -> None:
    """Every scenario (or the groups in ``only``) at one size on one engine, appended to
    ``results`` as they finish."""
    url = database_url(engine, accounts, data_dir)
    scratch = database_url(engine, accounts, data_dir, "copy")

    def keep(measurement: Measurement) -> None:
        row = measurement.as_dict()
        results.append(row)
        log(row)

    if "demo" in only:
        keep(demo.demo_measurement(url, scratch, accounts))
    elif not (keep_data and demo.has_data(url, accounts)):
        demo.generate(url, accounts)  # fresh data all the same, untimed
    big = accounts >= 500_000
    read_repeat = 5 if (quick or big) else 7
    write_repeat = 2 if quick else 3
    t = open_target(url, read_repeat=read_repeat, write_repeat=write_repeat)

    def group(name: str, work: Any) -> None:
        if name not in only:
            return
        # A failing group (a floor that disagrees, a crash) is recorded and the run goes on:
        # an hour at 1M is not thrown away for one scenario, and the error stays visible.
        try:
            work()
        except Exception as exc:
            row = {"scenario": f"{name}: FAILED", "kind": "error", "error": repr(exc)[:2000]}
            results.append(row)
            print(f"{name}: FAILED {exc!r}"[:2000], flush=True)

    def files_group() -> None:
        work = Path(tempfile.mkdtemp(prefix="bookwise-bench-", dir=data_dir))
        try:
            export, load = files.file_pairs(t, work)
            keep(measure(export, repeat=1 if big else 2))
            keep(measure(load, repeat=0))
        finally:
            files.remove(work)

    def each(pairs: Any, repeat: int) -> Any:
        return lambda: [keep(measure(pair, repeat=repeat)) for pair in pairs()]

    requests = 40 if quick else (160 if big else 200)
    try:
        group("reads", each(lambda: reads.overview_pairs(t), read_repeat))
        group("pages", each(lambda: reads.page_pairs(t), read_repeat))
        group("rules", each(lambda: reads.rule_pairs(t), read_repeat))
        group("bulk", each(lambda: bulk.bulk_pairs(t), write_repeat))
        group("segments", each(lambda: segments.segment_pairs(t), write_repeat))
        group("files", files_group)
        group(
            "http",
            lambda: [keep(m) for m in http.http_measurements(t, concurrent_requests=requests)],
        )
        if accounts <= 100_000:
            group("contrast", each(lambda: contrast.contrast_pairs(t), 1))
    finally:
        t.close()


def growth(sizes: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per scenario timed at both sizes: bookwise's large/small ratio over the floor's
    (minimum of the runs, as the issue asks, since it combines four noisy timings)."""
    if len(sizes) < 2:
        return []
    small, large = sorted(sizes, key=int)[0], sorted(sizes, key=int)[-1]
    before = {row["scenario"]: row for row in sizes[small] if row.get("kind") != "error"}
    out = []
    for row in sizes[large]:
        was = before.get(row["scenario"])
        if not was or "floor_min_ms" not in row or "floor_min_ms" not in was:
            continue
        ours = row["bookwise_min_ms"] / was["bookwise_min_ms"]
        theirs = row["floor_min_ms"] / was["floor_min_ms"]
        out.append(
            {
                "scenario": row["scenario"],
                "bookwise_growth": round(ours, 2),
                "floor_growth": round(theirs, 2),
                "ratio": round(ours / theirs, 2),
            }
        )
    return out


def merge(earlier: dict[str, Any], rerun: dict[str, Any], only: frozenset[str]) -> dict[str, Any]:
    """``earlier`` with the rows of the groups in ``only`` replaced by ``rerun``'s, in place;
    the rerun's commit and time are noted, since the file now mixes two runs."""
    merged = dict(earlier)
    merged["sizes"] = {}
    for size in sorted(set(earlier["sizes"]) | set(rerun["sizes"]), key=int):
        new = {row["scenario"]: row for row in rerun["sizes"].get(size, [])}
        failed = {f"{name}: FAILED" for name in only}
        rows = []
        for row in earlier["sizes"].get(size, []):
            if row["scenario"] in new:
                rows.append(new.pop(row["scenario"]))
            elif row["scenario"] not in failed:
                rows.append(row)
        merged["sizes"][size] = rows + list(new.values())
    reruns = list(earlier.get("reruns", []))
    reruns.append({"groups": sorted(only), "machine": rerun["machine"]})
    merged["reruns"] = reruns
    return merged


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, write the JSON file."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and requests")
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--out", type=Path, help="results file (default: bench/results/…)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(GROUPS),
        help="run these groups only and replace their rows in the results file",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="with --only: use the data an earlier run left (writes restore it) if it is there",
    )
    args = parser.parse_args(argv)
    only = frozenset(args.only) if args.only else GROUPS
    args.data_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(row: dict[str, Any]) -> None:
        ratio = f"{row['ratio']:.2f}×" if "ratio" in row else ""
        floor = f"{row['floor_median_ms']:>10.1f}" if "floor_median_ms" in row else " " * 10
        print(
            f"{row['scenario'][:52]:52} {row['bookwise_median_ms']:>10.1f} {floor} {ratio:>7}"
            f"  rss {row['peak_rss_mib'] or 0:.0f} MiB",
            flush=True,
        )

    sizes: dict[str, list[dict[str, Any]]] = {}
    document: dict[str, Any] = {
        "engine": args.engine,
        "date": dt.date.today().isoformat(),
        "quick": args.quick,
        "machine": machine(),
        "sizes": sizes,
    }
    suffix = "-quick" if args.quick else ""
    out = args.out or RESULTS / f"{document['date']}-{args.engine}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    earlier = json.loads(out.read_text()) if args.only and out.exists() else None

    def write() -> dict[str, Any]:
        # After every scenario, so an hour at 1M survives a crash; a partial rerun merges
        # into the earlier file instead of replacing it.
        whole = document if earlier is None else merge(earlier, document, only)
        seconds = round(time.perf_counter() - started, 1)
        if earlier is None:
            whole["seconds"] = seconds
        else:  # the first run's time stays; each rerun keeps its own
            whole["reruns"][-1]["seconds"] = seconds
        whole["growth"] = growth(whole["sizes"])
        out.write_text(json.dumps(whole, indent=1) + "\n")
        return whole

    def save(row: dict[str, Any]) -> None:
        log(row)
        write()

    for accounts in sorted(args.accounts):
        print(f"== {args.engine}, {accounts:,} accounts ({'quick' if args.quick else 'full'})")
        print(f"{'scenario':52} {'bookwise ms':>10} {'floor ms':>10} {'ratio':>7}")
        sizes[str(accounts)] = []
        run_size(
            args.engine,
            accounts,
            data_dir=args.data_dir,
            quick=args.quick,
            log=save,
            results=sizes[str(accounts)],
            only=only,
            keep_data=args.keep_data,
        )
    document = write()
    for row in document["growth"]:
        print(f"growth {row['scenario'][:50]:50} {row['ratio']:.2f}× the floor's")
    print(f"wrote {out} in {document['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
