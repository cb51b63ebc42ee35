"""CSV cells a spreadsheet would run as formulas (CWE-1236), bookwise's export marker, and the
one CSV writer every CSV bookwise writes goes through (:class:`SafeCsvWriter`).

Export prefixes ``'`` to every text cell that a spreadsheet could read as a formula: one that
starts with ``= + - @``, a tab, CR or LF, also after leading white space (NBSP included) or
after an embedded line break; and to every cell that already starts with ``'`` (so that the
prefix can be removed without ambiguity). Import removes the prefix again only in files that
start with :data:`EXPORT_MARKER`, so a real value such as ``'s-Hertogenbosch`` in someone
else's file is never changed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

EXPORT_MARKER = "# bookwise export v1"
"""The first line of every file bookwise exports."""

_TRIGGERS = "=+-@\t\r\n"
# Every character Python treats as a line break (str.splitlines), to be safe with any reader.
_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Start of the cell or of any line inside it, then any white space (\s covers NBSP and the
# other Unicode spaces), then a trigger character.
_DANGEROUS = re.compile(rf"(?:^|[{_BREAKS}])[^\S{_BREAKS}]*[=+\-@\t{_BREAKS}]")

_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def is_dangerous(value: str) -> bool:
    """True when a spreadsheet could treat the cell as a formula."""
    if not value:
        return False
    first = value[0]
    if first in _TRIGGERS:
        return True
    # Fast path for the common cell: it neither starts with white space nor holds a line
    # break (every break character is unprintable, so ``isprintable`` rules them all out).
    if not first.isspace() and value.isprintable():
        return False
    return _DANGEROUS.search(value) is not None


def neutralise(value: str) -> str:
    """The cell as bookwise exports it: ``'`` in front when dangerous or already quoted."""
    if is_dangerous(value) or value.startswith("'"):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutralise` (only for files carrying :data:`EXPORT_MARKER`)."""
    return value[1:] if value.startswith("'") else value


def safe_cell(value: Any) -> str:
    """One cell of any CSV bookwise writes: numbers, dates and booleans by type, text made safe.

    ``None`` is empty. A number is written as it is (``-40`` is a number, not a formula), and
    so is text that is nothing but a decimal number (money leaves the API and the CLI as
    ``"-5.00"``): a spreadsheet reads it as that number and runs nothing. Every other value is
    written as text through :func:`neutralise`.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return neutralise(text)


class SafeCsvWriter:
    """The CSV writer of bookwise: listings, exports and error files all write through it.

    :meth:`writerow` makes every cell safe with :func:`safe_cell`. :meth:`writerow_safe` is for
    the export's hot path, whose per-column renderers have already made each cell safe (by the
    same :func:`neutralise`); neutralising those again would double their prefix.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        lineterminator: str = "\r\n",
        quote_all: bool = False,
        marker: bool = False,
    ) -> None:
        self._writer = csv.writer(
            stream,
            quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
            lineterminator=lineterminator,
        )
        if marker:
            stream.write(EXPORT_MARKER + lineterminator)

    def writerow(self, cells: Iterable[Any]) -> None:
        """Write one row, each cell through :func:`safe_cell`."""
        self._writer.writerow([safe_cell(value) for value in cells])

    def writerow_safe(self, cells: Iterable[str]) -> None:
        """Write one row whose cells a renderer of this module's rules has already made safe."""
        self._writer.writerow(cells)
