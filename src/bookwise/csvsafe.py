"""CSV cells a spreadsheet would run as formulas (CWE-1236), and bookwise's export marker.

Export prefixes ``'`` to every text cell that a spreadsheet could read as a formula: one that
starts with ``= + - @``, a tab, CR or LF, also after leading white space (NBSP included) or
after an embedded line break; and to every cell that already starts with ``'`` (so that the
prefix can be removed without ambiguity). Import removes the prefix again only in files that
start with :data:`EXPORT_MARKER`, so a real value such as ``'s-Hertogenbosch`` in someone
else's file is never changed.
"""

from __future__ import annotations

import re

EXPORT_MARKER = "# bookwise export v1"
"""The first line of every file bookwise exports."""

_TRIGGERS = "=+-@\t\r\n"
# Every character Python treats as a line break (str.splitlines), to be safe with any reader.
_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Start of the cell or of any line inside it, then any white space (\s covers NBSP and the
# other Unicode spaces), then a trigger character.
_DANGEROUS = re.compile(rf"(?:^|[{_BREAKS}])[^\S{_BREAKS}]*[=+\-@\t{_BREAKS}]")


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
