"""Regenerate the measured tables in docs/performance.md from bench/results/*.json.

    python -m bench.report              # newest full run per engine (else the newest quick one)

Everything between the ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` markers is
replaced; the prose around it is left alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def newest(engine: str) -> dict[str, Any] | None:
    """The newest results document for ``engine``: a full run if there is one."""
    found = []
    for path in RESULTS.glob(f"*-{engine}*.json"):
        document = json.loads(path.read_text())
        found.append((not document.get("quick", False), path.name, document))
    return max(found, key=lambda item: (item[0], item[1]))[2] if found else None


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _ratio(row: dict[str, Any]) -> str:
    return f"{row['ratio']:.2f}×" if "ratio" in row else "–"


def size_table(document: dict[str, Any], size: str) -> list[str]:
    """One engine at one size: every scenario's median, min, floor, ratio, peak RSS."""
    lines = [
        "| scenario | rows | bookwise ms (median / min) | floor ms (median / min) | ratio | "
        "peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in document["sizes"][size]:
        if row.get("kind") == "error":
            lines.append(f"| {row['scenario']} ({row['error'][:200]}) | | | | | |")
            continue
        floor = (
            f"{_ms(row.get('floor_median_ms'))} / {_ms(row.get('floor_min_ms'))}"
            if "floor_median_ms" in row
            else "–"
        )
        extra = ""
        if "http_overhead_ms" in row:
            service, added = _ms(row["service_median_ms"]), _ms(row["http_overhead_ms"])
            extra = f" (service layer {service}; HTTP adds {added}"
            if "http_overhead_min_ms" in row:
                extra += f", {_ms(row['http_overhead_min_ms'])} between the fastest runs"
            extra += ")"
        if "p50_ms" in row:
            extra = (
                f" (p50 {_ms(row['p50_ms'])}, p95 {_ms(row['p95_ms'])}, p99 "
                f"{_ms(row['p99_ms'])}; {row['requests_per_second']} requests/s"
                + (f"; {row['workers']} server workers" if "workers" in row else "")
                + (
                    f"; warm, the slowest first request {_ms(row['cold_max_ms'])})"
                    if "cold_max_ms" in row
                    else ")"
                )
            )
        rows = f"{row['rows']:,}" if row.get("rows") is not None else ""
        lines.append(
            f"| {row['scenario']}{extra} | {rows} | {_ms(row['bookwise_median_ms'])} / "
            f"{_ms(row['bookwise_min_ms'])} | {floor} | {_ratio(row)} | "
            f"{row['peak_rss_mib'] or '–'} |"
        )
    return lines


def growth_table(document: dict[str, Any]) -> list[str]:
    """bookwise's large/small time ratio against the floor's, per scenario."""
    if not document.get("growth"):
        return []
    sizes = sorted(document["sizes"], key=int)
    lines = [
        f"Growth from {int(sizes[0]):,} to {int(sizes[-1]):,} accounts (minimum of the runs):",
        "",
        "| scenario | bookwise × | floor × | bookwise growth / floor growth |",
        "|---|---:|---:|---:|",
    ]
    for row in document["growth"]:
        lines.append(
            f"| {row['scenario']} | {row['bookwise_growth']:.2f} | {row['floor_growth']:.2f} | "
            f"{row['ratio']:.2f}× |"
        )
    return lines


def machine_line(document: dict[str, Any]) -> str:
    """The machine the run was on, in one line."""
    m = document["machine"]
    parts = [m.get("cpu"), m.get("memory"), m.get("os"), f"Python {m.get('python')}"]
    parts.append(f"SQLite {m.get('sqlite')}")
    if m.get("postgresql"):
        parts.append(m["postgresql"])
    parts.append(f"load average {m.get('load_average_at_start')} at the start")
    if m.get("commit"):
        parts.append(f"commit {m['commit']}")
    return "; ".join(str(p) for p in parts if p)


def render() -> str:
    """The generated part of docs/performance.md."""
    out: list[str] = []
    for engine, title in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        document = newest(engine)
        if document is None:
            continue
        kind = "quick run" if document.get("quick") else "full run"
        out += [
            f"### {title} ({kind} of {document['date']}, {document['seconds']:,.0f} s)",
            "",
            f"Machine: {machine_line(document)}.",
            "",
        ]
        if document.get("notes"):
            out += [f"Note: {document['notes']}", ""]
        for rerun in document.get("reruns", []):
            out += [
                f"Rerun of {', '.join(rerun['groups'])} ({rerun.get('seconds', 0):,.0f} s; "
                f"their rows replace the first run's): {machine_line(rerun)}.",
                "",
            ]
        for size in sorted(document["sizes"], key=int):
            out += [f"#### {int(size):,} accounts", "", *size_table(document, size), ""]
        growth = growth_table(document)
        if growth:
            out += [*growth, ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    """Rewrite the generated block of docs/performance.md."""
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        print(f"{DOC} has no {BEGIN} … {END} block", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{render()}{END}{tail}")
    print(f"rewrote the measured tables in {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
