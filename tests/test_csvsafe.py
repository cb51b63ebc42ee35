"""Formula neutralisation (CWE-1236): nothing dangerous leaves, everything comes back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookwise.csvsafe import is_dangerous, neutralise, restore

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
