"""The benchmarks run, and every hand-written floor answers exactly what bookwise answers.

This is CI's share of bench/ (issue 6): no timing is asserted anywhere. Each scenario runs
once per side on a small demo database — the same code ``make bench`` runs at 1M — and the
harness raises ``AnswersDiffer`` when a floor's answer (a page, a total, the ownership state
a bulk write leaves, an export file's bytes, the accounts an import loads) is not bookwise's.
A floor that drifts from bookwise, or a bookwise change that stops writing a history row the
floor writes, fails here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench import bulk, contrast, demo, files, http, reads, report, run, segments
from bench.context import Target, open_target
from bench.harness import AnswersDiffer, Pair, measure

PG_URL = os.environ.get("BOOKWISE_TEST_DATABASE_URL")
ACCOUNTS = 3000


def _url(tmp: Path, name: str) -> str:
    if PG_URL:
        return make_url(PG_URL).set(database=f"bw_bench_ci_{name}").render_as_string(False)
    return f"sqlite:///{tmp / f'{name}.db'}"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = tmp_path_factory.mktemp("bench")
    url = _url(folder, "demo")
    demo.generate(url, ACCOUNTS)
    opened = open_target(url, read_repeat=1, write_repeat=1)
    yield opened
    opened.close()


def _check(pairs: list[Pair]) -> list[str]:
    names = []
    for pair in pairs:
        measured = measure(pair, repeat=0)  # one run per side, answers compared first
        assert measured.bookwise_ms
        assert measured.floor_ms
        names.append(pair.scenario)
    return names


@pytest.mark.slow
def test_read_floors_answer_what_bookwise_answers(target: Target) -> None:
    names = _check(
        reads.overview_pairs(target) + reads.page_pairs(target) + reads.rule_pairs(target)
    )
    assert len(names) == 8


@pytest.mark.slow
def test_bulk_floors_leave_the_same_ownership_state(target: Target) -> None:
    assert len(_check(bulk.bulk_pairs(target))) == 5
    assert len(_check(contrast.contrast_pairs(target))) == 1


@pytest.mark.slow
def test_segment_refresh_floor_records_the_same_entries_and_exits(target: Target) -> None:
    assert len(_check(segments.segment_pairs(target))) == 1


@pytest.mark.slow
def test_export_is_byte_identical_and_import_loads_the_same_accounts(
    target: Target, tmp_path: Path
) -> None:
    assert len(_check(files.file_pairs(target, tmp_path))) == 2


@pytest.mark.slow
def test_http_pages_answer_what_the_service_layer_answers(target: Target) -> None:
    measured = http.http_measurements(target, concurrent_requests=8)
    rows = len(measured) - len(http.CONCURRENT_CLIENTS)
    one_client, concurrent = measured[:rows], measured[rows:]
    # every concurrent request answered: at least 8 per client
    assert [m.rows for m in concurrent] == [8 * n for n in http.CONCURRENT_CLIENTS]
    assert all("http_overhead_ms" in m.notes for m in one_client)


@pytest.mark.slow
def test_demo_copy_floor_writes_the_generated_rows(tmp_path: Path) -> None:
    measured = demo.demo_measurement(_url(tmp_path, "gen"), _url(tmp_path, "copy"), 300)
    assert measured.rows == 300
    assert measured.floor_ms


def test_a_differing_answer_stops_the_scenario() -> None:
    pair = Pair("x", "read", lambda: [1, 2], lambda: [1, 3])
    with pytest.raises(AnswersDiffer, match="x: bookwise"):
        measure(pair, repeat=3)


def test_growth_compares_each_side_with_itself() -> None:
    small = [{"scenario": "s", "bookwise_min_ms": 10.0, "floor_min_ms": 5.0}]
    large = [{"scenario": "s", "bookwise_min_ms": 150.0, "floor_min_ms": 50.0}]
    (row,) = run.growth({"100000": small, "1000000": large})
    assert (row["bookwise_growth"], row["floor_growth"], row["ratio"]) == (15.0, 10.0, 1.5)


def test_performance_doc_holds_the_generated_tables() -> None:
    text = report.DOC.read_text()
    _head, rest = text.split(report.BEGIN, 1)
    generated, _ = rest.split(report.END, 1)
    assert generated.strip() == report.render().strip(), "run `python -m bench.report`"


def test_a_rerun_replaces_its_groups_rows_in_place_and_keeps_the_rest() -> None:
    def row(name: str, ms: float) -> dict[str, object]:
        return {"scenario": name, "kind": "read", "bookwise_median_ms": ms}

    earlier = {
        "seconds": 100.0,
        "sizes": {"10": [row("1 a", 1), row("2 b", 2), row("rules: FAILED", 0), row("3 c", 3)]},
    }
    rerun = {"machine": {"commit": "abc"}, "sizes": {"10": [row("2 b", 20), row("4 d", 4)]}}
    merged = run.merge(earlier, rerun, frozenset({"rules"}))
    assert [(r["scenario"], r["bookwise_median_ms"]) for r in merged["sizes"]["10"]] == [
        ("1 a", 1),
        ("2 b", 20),
        ("3 c", 3),
        ("4 d", 4),
    ]
    assert merged["reruns"] == [{"groups": ["rules"], "machine": {"commit": "abc"}}]
    assert earlier["sizes"]["10"][1]["bookwise_median_ms"] == 2  # the earlier file is untouched
