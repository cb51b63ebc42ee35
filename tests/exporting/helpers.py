"""Reading exports back: split off the marker, parse the rest with the csv module."""

from __future__ import annotations

import csv
import io

from bookwise.csvsafe import EXPORT_MARKER

TRIGGERS = {"=", "+", "-", "@"}


def parse_export(data: str) -> list[dict[str, str]]:
    """The rows of an export as dicts; the marker must be its first line, CRLF-terminated."""
    marker, sep, rest = data.partition("\r\n")
    assert sep == "\r\n", "the marker line must end with CRLF"
    assert marker == EXPORT_MARKER, f"first line is {marker!r}"
    return list(csv.DictReader(io.StringIO(rest, newline="")))


def spreadsheet_would_run(cell: str) -> bool:
    """What a spreadsheet does with a cell: runs it if a line starts (after white space) with
    a trigger, unless the cell starts with the quote that makes it text."""
    if cell.startswith("'"):
        return False
    return any(line.lstrip()[:1] in TRIGGERS for line in cell.splitlines()) or (
        cell[:1] in {"\t", "\r", "\n"}
    )
