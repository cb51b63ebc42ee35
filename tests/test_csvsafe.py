"""Formula neutralisation (CWE-1236): nothing dangerous leaves, everything comes back."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bookwise
from bookwise.csvsafe import EXPORT_MARKER, SafeCsvWriter, is_dangerous, neutralise, restore

HYPERLINK = '=HYPERLINK("http://x","y")'
TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n"]
SPACES = ["", " ", "  ", "\u00a0", "\u2003", " \u00a0"]


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+SUM(A1)",
        "-2",
        "@cmd",
        "\t=1",
        ' =HYPERLINK("x")',
        "\u00a0=1",
        "Acme\n=1",
        "Acme\r\n  @x",
    ],
)
def test_dangerous_cells_get_a_quote(value: str) -> None:
    assert is_dangerous(value)
    assert neutralise(value) == "'" + value
    assert restore(neutralise(value)) == value


@pytest.mark.parametrize("value", ["Acme", "'s-Hertogenbosch", "a=b", "", "5000.00", "x - y"])
def test_safe_cells_pass_and_quotes_are_escaped(value: str) -> None:
    assert restore(neutralise(value)) == value
    if not value.startswith("'"):
        assert neutralise(value) == value


def _spreadsheet_would_run(cell: str) -> bool:
    """What a spreadsheet does with a cell: runs it if a line starts (after space) with a
    trigger, unless the cell starts with the quote that makes it text."""
    if cell.startswith("'"):
        return False
    return any(line.lstrip()[:1] in {"=", "+", "-", "@"} for line in cell.splitlines()) or (
        cell[:1] in {"\t", "\r", "\n"}
    )


cells = st.builds(
    lambda space, trigger, before, after: before + space + trigger + after,
    st.sampled_from(SPACES),
    st.sampled_from(TRIGGERS),
    st.sampled_from(["", "Acme\n", "x\r\n", "'"]),
    st.text(max_size=20),
) | st.text(max_size=30)


@settings(max_examples=10_000, deadline=None)
@given(cells)
def test_no_exported_cell_runs_and_every_cell_round_trips(value: str) -> None:
    exported = neutralise(value)
    assert not _spreadsheet_would_run(exported)
    assert restore(exported) == value


def _written(rows: list[list[object]], **options: bool) -> list[list[str]]:
    out = io.StringIO()
    writer = SafeCsvWriter(out, **options)
    for row in rows:
        writer.writerow(row)
    text = out.getvalue()
    if options.get("marker"):
        first, text = text.split("\r\n", 1)
        assert first == EXPORT_MARKER
    return list(csv.reader(io.StringIO(text)))


def test_the_shared_writer_neutralises_text_and_keeps_types() -> None:
    rows = _written(
        [
            [HYPERLINK, "+1", "-2+3", "@SUM(A1)", "\tx", "'quoted", "Acme"],
            [None, True, -40, Decimal("-5.00"), "-5.00", date(2026, 11, 22), 1.5],
        ]
    )
    assert rows == [
        ["'" + HYPERLINK, "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "''quoted", "Acme"],
        ["", "true", "-40", "-5.00", "-5.00", "2026-11-22", "1.5"],
    ]


def test_the_shared_writer_writes_the_marker_when_asked() -> None:
    assert _written([["=a"]], marker=True, quote_all=True) == [["'=a"]]


@settings(max_examples=2_000, deadline=None)
@given(st.lists(cells, min_size=1, max_size=5))
def test_nothing_the_shared_writer_writes_runs(row: list[str]) -> None:
    (written,) = _written([list(row)])
    for value in written:
        assert not _spreadsheet_would_run(value) or value.lstrip("-").replace(".", "").isdigit()


def test_every_csv_bookwise_writes_goes_through_the_shared_writer() -> None:
    source = Path(bookwise.__file__).parent
    writers = {
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\b", path.read_text(encoding="utf-8"))
    }
    assert writers == {"csvsafe.py"}, "write CSV with bookwise.csvsafe.SafeCsvWriter"
