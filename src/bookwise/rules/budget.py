"""How big a rule may be: one budget for the text and the JSON form, segments expanded.

A rule compiles to one SQL statement, and both databases refuse statements past their own
limits: SQLite's expression tree holds at most 1,000 levels and its parser stack 100 entries,
and SQLAlchemy's compiler recurses once per level. A rule within the budget runs in every
statement bookwise wraps a rule in, on both databases; docs/rule-language.md#limits gives the
numbers measured and the margin kept. The compiler spends the budget as it goes
(``Spending``), so what segment references expand to counts, and the first condition or level
past a limit is the one the error points at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bookwise.errors import RuleTooBig
from bookwise.rules import ast

MAX_CONDITIONS = 200
"""Conditions in a rule, counting those of every segment it uses (each time it uses one)."""
MAX_VALUES = 2_000
"""Values compared in a rule (``in`` lists count each value), segments included."""
MAX_DEPTH = 15
"""How deep a rule's SQL nests, in the units below."""
SUBQUERY_DEPTH = 3
"""The depth of ``any child (…)``, of each ``parent.`` and of ``parent in segment``."""
ANCESTOR_DEPTH = 6
"""The depth of ``ancestor in segment``: a recursive query inside a subquery."""
GROUP_DEPTH = 1
"""The depth of a group: ``and`` inside ``or``, or ``or`` inside ``and`` (after ``not``)."""
MAX_JSON_ITEMS = 20_000
"""JSON values (objects, lists, texts, numbers…) in a rule's JSON form, checked first."""
MAX_JSON_NESTING = 200
"""How deep a rule's JSON form nests (objects and lists), checked before reading it."""

LIMITS_DOC = "docs/rule-language.md#limits"


@dataclass
class Spending:
    """What one compilation has spent of the budget so far.

    ``anchor`` is where a segment the rule uses is named in its text: the conditions inside
    that segment have no position of their own in the text, so an error in them points there.
    """

    conditions: int = 0
    values: int = 0
    depth: int = 0
    anchor: ast.Span | None = None

    def condition(self, node: ast.Condition) -> None:
        """Count one condition and its values."""
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise RuleTooBig(
                f"the rule has more than {MAX_CONDITIONS} conditions (counting those of the "
                "segments it uses); use `in (…)` lists instead of many `or`s, or narrow it "
                f"({LIMITS_DOC})",
                span=self.where(node),
            )
        value = node.value
        self.values += len(value) if isinstance(value, list) else int(value is not None)
        if self.values > MAX_VALUES:
            raise RuleTooBig(
                f"the rule compares more than {MAX_VALUES:,} values (counting those of the "
                f"segments it uses); narrow it ({LIMITS_DOC})",
                span=self.where(node),
            )

    @contextmanager
    def deeper(self, units: int, node: ast.Rule) -> Iterator[None]:
        """Go ``units`` deeper for the duration of the block."""
        self.depth += units
        try:
            if self.depth > MAX_DEPTH:
                raise RuleTooBig(
                    f"the rule nests too deep: `any child (`, each `parent.` and `parent in "
                    f"segment` count {SUBQUERY_DEPTH}, `ancestor in segment` {ANCESTOR_DEPTH}, "
                    f"and an `and` group inside `or` (or the reverse) {GROUP_DEPTH}; the limit "
                    f"is {MAX_DEPTH}, segments used included ({LIMITS_DOC})",
                    span=self.where(node),
                )
            yield
        finally:
            self.depth -= units

    @contextmanager
    def inside_segment(self, ref: ast.SegmentRef) -> Iterator[None]:
        """Errors inside the segment ``ref`` names point at ``ref`` (the outermost one)."""
        before = self.anchor
        if before is None and ref.span is not None:
            self.anchor = ref.span
        try:
            yield
        finally:
            self.anchor = before

    def where(self, node: ast.Rule) -> ast.Span | None:
        """The position an error about ``node`` points at."""
        return self.anchor if self.anchor is not None else node.span


def check_json_size(data: object) -> None:
    """Refuse a rule's JSON form that is too big or nests too deep, before validating it.

    Walked without recursion, so that no shape of input can exhaust the stack here; the
    error names the path of the first item past the limit.
    """
    items = 1
    stack: list[tuple[object, str, int]] = [(data, "", 1)]
    while stack:
        value, path, nesting = stack.pop()
        if nesting > MAX_JSON_NESTING:
            raise RuleTooBig(
                f"the rule's JSON form nests more than {MAX_JSON_NESTING} deep ({LIMITS_DOC})",
                path=path or "rule",
            )
        if not isinstance(value, dict | list):
            continue
        items += len(value)  # counted before the children are listed: no big copy first
        if items > MAX_JSON_ITEMS:
            raise RuleTooBig(
                f"the rule's JSON form holds more than {MAX_JSON_ITEMS:,} items ({LIMITS_DOC})",
                path=path or "rule",
            )
        pairs = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in reversed(list(pairs)):
            stack.append((child, f"{path}.{key}" if path else str(key), nesting + 1))
