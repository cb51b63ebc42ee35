"""How long a CLI command takes, start to finish, and where its start-up time goes.

    python -m bench.cli_startup                 # make bench-cli
    python -m bench.cli_startup --runs 21 --url sqlite:///bench/data/cli-demo.db
    python -m bench.cli_startup --baseline eace0f0   # the same commands, old and new, alternated

Each command runs ``--runs`` times as its own process, exactly as a person types it
(``.venv/bin/bookwise …``), the commands interleaved: the median and the fastest wall time,
and the median CPU time of the process (user + system; steadier than the wall time on a shared
machine, since it leaves out the time spent waiting for a core). ``python -c pass`` is the
interpreter's own floor. Then ``python -X importtime`` shows where the start-up goes: the
imports with the most time of their own, summed per top-level package, and bookwise's own
modules. The database is the demo data ``make run`` loads (2,000 accounts), made on first use.
``--baseline REF`` also runs the commands with bookwise's sources as of the commit REF
(``git archive`` into a temporary folder, first on ``PYTHONPATH``), each old run beside its
new one, so that both meet the same load on a shared machine.

Bytecode: the package is compiled first (``compileall``), as ``pip install`` does and as
Python does itself on the first run unless ``PYTHONDONTWRITEBYTECODE`` is set; the report says
whether it is set in this environment. The issue's target: at most 0.4 s wall for
``bookwise --help`` and ``bookwise csms``. Nothing asserts a time (docs/performance.md).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
DEFAULT_URL = f"sqlite:///{ROOT / 'bench' / 'data' / 'cli-demo.db'}"
Command = tuple[str, list[str], dict[str, str]]  # label, arguments, extra environment
COMMANDS: tuple[tuple[str, list[str]], ...] = (
    ("python -c pass (the interpreter alone)", [sys.executable, "-c", "pass"]),
    ("bookwise --help", [str(BIN / "bookwise"), "--help"]),
    ("bookwise csms", [str(BIN / "bookwise"), "csms"]),
)
TARGET_S = 0.4


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "BOOKWISE_DATABASE_URL": url}


def ensure_demo(url: str, accounts: int) -> None:
    """The demo database ``make run`` makes, if it is not there yet."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    for args in (["init"], ["demo", "--accounts", str(accounts), "--if-empty"]):
        subprocess.run(
            [str(BIN / "bookwise"), *args], env=_env(url), check=True, capture_output=True
        )


def with_baseline(ref: str | None, folder: Path) -> list[Command]:
    """The commands, and with ``ref`` each bookwise one again on the sources of that commit."""
    commands: list[Command] = [(name, command, {}) for name, command in COMMANDS]
    if ref is None:
        return commands
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tempfile.TemporaryFile() as tar_file:
        tar_file.write(archive)
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file) as tar:
            tar.extractall(folder, filter="data")
    compileall.compile_dir(folder / "src" / "bookwise", quiet=1)
    old = {"PYTHONPATH": str(folder / "src")}
    baseline = [
        (f"{name} (at {ref})", command, old)
        for name, command in COMMANDS
        if not name.startswith("python")
    ]
    return [
        commands[0],
        *(pair for both in zip(baseline, commands[1:], strict=True) for pair in both),
    ]


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command`` as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def timings(
    commands: list[Command], runs: int, env: dict[str, str]
) -> list[tuple[str, list[float], list[float]]]:
    """Every command ``runs`` times, interleaved, after one untimed warm-up run each."""
    walls: dict[str, list[float]] = defaultdict(list)
    cpus: dict[str, list[float]] = defaultdict(list)
    for _, command, extra in commands:
        run_once(command, {**env, **extra})
    for _ in range(runs):
        for name, command, extra in commands:
            wall, cpu = run_once(command, {**env, **extra})
            walls[name].append(wall)
            cpus[name].append(cpu)
    return [(name, walls[name], cpus[name]) for name, _, _ in commands]


def import_times(args: list[str], env: dict[str, str]) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of every import of ``bookwise ARGS``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bookwise", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        found.append((name.strip(), int(own), int(cumulative)))
    return found


def offenders(found: list[tuple[str, int, int]], top: int) -> list[str]:
    """Markdown lines: the packages and the bookwise modules with the most import time."""
    packages: dict[str, int] = defaultdict(int)
    for name, own, _ in found:
        packages[name.split(".")[0]] += own
    total = sum(packages.values())
    lines = [f"imports: {len(found)} modules, {total / 1000:.0f} ms of import time", ""]
    lines += ["| package | ms (own time of its modules) |", "|---|---:|"]
    for name, own in sorted(packages.items(), key=lambda item: -item[1])[:top]:
        lines.append(f"| {name} | {own / 1000:.1f} |")
    ours = sorted((row for row in found if row[0].startswith("bookwise")), key=lambda r: -r[1])
    lines += ["", "| bookwise module | own ms | with its imports ms |", "|---|---:|---:|"]
    for name, own, cumulative in ours[:top]:
        lines.append(f"| {name} | {own / 1000:.1f} | {cumulative / 1000:.1f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Measure, print a Markdown report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=11, help="runs per command (default 11)")
    parser.add_argument("--url", default=DEFAULT_URL, help="the database (default: %(default)s)")
    parser.add_argument("--accounts", type=int, default=2000, help="demo accounts if made")
    parser.add_argument("--top", type=int, default=12, help="offenders listed (default 12)")
    parser.add_argument(
        "--baseline", metavar="REF", help="also run the commands on the sources of commit REF"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bookwise-baseline-") as folder:
        return report(args, with_baseline(args.baseline, Path(folder)))


def report(args: argparse.Namespace, commands: list[Command]) -> int:
    """Measure ``commands`` and print the Markdown report."""
    compileall.compile_dir(ROOT / "src" / "bookwise", quiet=1)
    ensure_demo(args.url, args.accounts)
    env = _env(args.url)
    load = os.getloadavg()[0]
    print(f"# CLI start-up ({time.strftime('%Y-%m-%d')})\n")
    print(
        f"{args.runs} runs each; load average {load:.2f} at the start; Python "
        f"{sys.version.split()[0]}; {os.cpu_count()} CPUs; PYTHONDONTWRITEBYTECODE "
        f"{'set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'unset'}; database "
        f"{args.url}\n"
    )
    print("| command | wall s (median / fastest) | CPU s (median) |")
    print("|---|---:|---:|")
    for name, walls, cpus in timings(commands, args.runs, env):
        mark = "" if name.startswith("python") or statistics.median(walls) <= TARGET_S else " *"
        print(
            f"| {name} | {statistics.median(walls):.3f} / {min(walls):.3f}{mark} | "
            f"{statistics.median(cpus):.3f} |"
        )
    print(f"\n(* over the {TARGET_S} s target)")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    for label, command in (("bookwise --help", ["--help"]), ("bookwise csms", ["csms"])):
        print(f"\n## Where `{label}` spends its start-up\n")
        print("\n".join(offenders(import_times(command, env), args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
