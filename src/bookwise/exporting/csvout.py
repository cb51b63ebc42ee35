"""Formula-safe CSV writing: the export marker, typed columns, and one way to render a cell.

Every file starts with :data:`bookwise.csvsafe.EXPORT_MARKER` on a line of its own, then the
header. Text cells go through :func:`bookwise.csvsafe.neutralise`; numbers, money, dates,
times and booleans are rendered by type and never prefixed. Every cell is quoted
(``QUOTE_ALL``) so that a separator inside a value never splits it, and lines end with CRLF
(the csv module's default and RFC 4180's). The caller opens the stream as UTF-8 without a BOM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TextIO

from bookwise.csvsafe import SafeCsvWriter, neutralise
from bookwise.money import currency_decimals, format_money

Kind = Literal["text", "number", "money", "date", "datetime", "boolean"]
LINE_END = "\r\n"
BATCH_SIZE = 5000
"""Rows fetched (and owners looked up) per round trip when streaming an export."""


@dataclass(frozen=True)
class Field:
    """A column of an export: its header and how its values are rendered."""

    name: str
    kind: Kind = "text"


def render(kind: Kind, value: Any) -> str:
    """One cell: empty for no value, neutralised text, or a number/date/money by type."""
    if value is None:
        return ""
    if kind == "text":
        return neutralise(str(value))
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if kind == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if kind in ("date", "datetime") and isinstance(value, date | datetime):
        return value.isoformat()
    if kind == "date" and isinstance(value, str):
        return neutralise(value)
    if (
        kind == "number"
        and isinstance(value, int | float | Decimal)
        and not isinstance(value, bool)
    ):
        return str(value)
    # A stored value that does not have its declared type is exported as (safe) text.
    return neutralise(str(value))


def cell_renderer(kind: Kind) -> Callable[[Any], str]:
    """``render`` for one column, with a fast path for the type the column declares.

    Chosen once per column, not once per cell: a million-row export renders 14 million cells.
    Anything off the fast path (a stored value of another type) falls back to ``render``.
    """
    if kind == "text":
        return _text_cell
    if kind == "number":
        return lambda value: str(value) if type(value) is int else render(kind, value)
    if kind == "money":
        places = -currency_decimals()
        return lambda value: (
            str(Decimal(value).scaleb(places)) if type(value) is int else render(kind, value)
        )
    if kind == "date":
        return lambda value: value.isoformat() if type(value) is date else render(kind, value)
    return lambda value: render(kind, value)


def _text_cell(value: Any) -> str:
    # Most cells need no prefix: they start with a printable, non-space character that is
    # no trigger and hold no line break (``neutralise`` decides every other case).
    if type(value) is str and value and value[0] not in _CAREFUL and value.isprintable():
        return value
    return render("text", value)


_CAREFUL = frozenset("=+-@'") | frozenset(chr(c) for c in range(0x3000 + 1) if chr(c).isspace())


class CsvExport:
    """Writes the marker, the header and then typed rows to a text stream."""

    def __init__(self, out: TextIO, fields: Sequence[Field]) -> None:
        self.fields = tuple(fields)
        self.rows = 0
        self._writer = SafeCsvWriter(out, lineterminator=LINE_END, quote_all=True, marker=True)
        self._writer.writerow([f.name for f in self.fields])
        self._renderers = tuple(cell_renderer(f.kind) for f in self.fields)

    def write(self, values: Sequence[Any]) -> None:
        """Write one row; ``values`` are in the order of the fields."""
        self._writer.writerow_safe(
            [cell(v) for cell, v in zip(self._renderers, values, strict=True)]
        )
        self.rows += 1

    def write_all(self, rows: Iterable[Sequence[Any]]) -> int:
        """Write every row; return how many rows this export has written in all."""
        for values in rows:
            self.write(values)
        return self.rows
