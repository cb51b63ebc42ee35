"""Timing bookwise beside its hand-written SQL floor: alternated repetitions, median and min.

Every scenario is a *pair*: bookwise's own code path and a floor that answers the same
question (or writes the same rows) in plain SQL on the same database in the same process.
Before anything is timed each side runs once and the two answers are compared; a mismatch
stops the run, because a ratio between different answers means nothing. Repetitions then
alternate (bookwise first on even rounds, the floor first on odd ones) so that a noisy
neighbour or a warming cache hits both sides alike. Writes are undone after every run
(``restore``, not timed), so each run starts from the same state.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Action = Callable[[], Any]


def peak_rss_mib() -> float:
    """This process's peak resident set size since the last ``reset_peak_rss`` (MiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM)."""
    # Not Linux, or not permitted: the peak then covers the whole process.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


@dataclass
class Measurement:
    """One scenario's timings (ms) on one engine at one size."""

    scenario: str
    kind: str  # read | bulk | import | export | http | demo | contrast
    bookwise_ms: list[float]
    floor_ms: list[float] = field(default_factory=list)
    rows: int | None = None
    peak_rss_mib: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: raw timings plus median, min and the bookwise/floor ratio."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "kind": self.kind,
            "rows": self.rows,
            "peak_rss_mib": round(self.peak_rss_mib, 1) if self.peak_rss_mib else None,
            "bookwise_ms": [round(t, 3) for t in self.bookwise_ms],
            "bookwise_median_ms": _round(statistics.median(self.bookwise_ms)),
            "bookwise_min_ms": _round(min(self.bookwise_ms)),
            **self.notes,
        }
        if self.floor_ms:
            floor_median = statistics.median(self.floor_ms)
            out |= {
                "floor_ms": [round(t, 3) for t in self.floor_ms],
                "floor_median_ms": _round(floor_median),
                "floor_min_ms": _round(min(self.floor_ms)),
                "ratio": round(statistics.median(self.bookwise_ms) / floor_median, 2),
            }
        return out


def _round(value: float) -> float:
    return round(value, 3 if value < 10 else 1)


class AnswersDiffer(AssertionError):
    """Bookwise and its floor gave different answers: the scenario's ratio would be void."""


def compare(scenario: str, ours: Any, floor: Any) -> None:
    """Raise AnswersDiffer (showing both) unless the two answers are equal."""
    if ours != floor:
        raise AnswersDiffer(f"{scenario}: bookwise {_short(ours)} != floor {_short(floor)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 600 else text[:600] + "…"


def timed(action: Action) -> tuple[float, Any]:
    """Run ``action`` once: (milliseconds, its result)."""
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


@dataclass
class Pair:
    """A scenario: bookwise and floor actions, and how to prepare and undo a run."""

    scenario: str
    kind: str
    bookwise: Action
    floor: Action
    setup: Action | None = None
    restore: Action | None = None
    answer: Callable[[Any], Any] | None = None  # normalises a result before comparing
    rows: Callable[[Any], int] | None = None
    after: Callable[[Any], Any] | None = None  # untimed: e.g. read the state a write left
    # The action runs in a child process and reports {"ms", "peak_rss_mib", "answer"}: its
    # own time (without the interpreter's start) and its own peak memory.
    child: bool = False


def _once(pair: Pair, action: Action) -> tuple[float, Any]:
    if pair.setup is not None:
        pair.setup()
    try:
        elapsed, result = timed(action)
        if pair.child:
            elapsed = float(result["ms"])
        return elapsed, (pair.after(result) if pair.after is not None else result)
    finally:
        if pair.restore is not None:
            pair.restore()


def measure(pair: Pair, *, repeat: int) -> Measurement:
    """Check the answers agree, then time ``repeat`` alternated runs of each side (with
    ``repeat=0`` the checking runs, cold, are the timings)."""
    reset_peak_rss()
    first_ours, ours = _once(pair, pair.bookwise)
    first_floor, theirs = _once(pair, pair.floor)
    normalise = pair.answer or (lambda value: value)
    if pair.child:
        normalise = lambda value: value["answer"]  # noqa: E731
    compare(pair.scenario, normalise(ours), normalise(theirs))
    # With no repetitions (a 1M-row import takes minutes) the checked run is the timing.
    mine: list[float] = [] if repeat else [first_ours]
    floor: list[float] = [] if repeat else [first_floor]
    for round_ in range(repeat):
        order = [(pair.bookwise, mine), (pair.floor, floor)]
        for action, into in order if round_ % 2 == 0 else reversed(order):
            into.append(_once(pair, action)[0])
    measured = Measurement(
        scenario=pair.scenario,
        kind=pair.kind,
        bookwise_ms=mine,
        floor_ms=floor,
        rows=pair.rows(ours) if pair.rows else None,
        peak_rss_mib=peak_rss_mib(),
    )
    if pair.child:  # each side's own process: its peak is the figure that matters
        measured.peak_rss_mib = float(ours["peak_rss_mib"])
        measured.notes["floor_peak_rss_mib"] = round(float(theirs["peak_rss_mib"]), 1)
    return measured
