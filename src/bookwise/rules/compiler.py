"""Rules → one SQLAlchemy boolean expression over ``Account``: the one evaluator.

``not`` is pushed down to the leaves (De Morgan), where each condition knows its exact
complement, NULLs included: the SQL never wraps a NULL-able test in NOT, so ``not R`` always
matches exactly the accounts ``R`` does not. Segment references compile inline and hierarchy
conditions become IN-subqueries or a recursive CTE, so a rule is always one statement.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement as Col

from bookwise.assignments.predicates import active_owner_count, owned_by_anyone_active
from bookwise.config import get_settings
from bookwise.dates import today
from bookwise.db import text_fold
from bookwise.errors import InvalidInput, InvalidRule
from bookwise.listing import BoundedCache
from bookwise.models import Account, Assignment
from bookwise.money import MAX_MINOR_UNITS, currency_decimals, to_minor_units
from bookwise.rules import ast
from bookwise.rules.budget import ANCESTOR_DEPTH, GROUP_DEPTH, SUBQUERY_DEPTH, Spending
from bookwise.rules.registry import Catalog, FieldSpec, resolve_field
from bookwise.rules.sql import (
    INT32,
    Predicate,
    compare,
    condition_values,
    datetime_compare,
    folded,
    in_parent,
    integer_limit,
    member,
    negated,
    positive,
    text_test,
)
from bookwise.rules.values import as_choice, as_decimal, as_level, as_text, as_truth, shown

MAX_SEGMENT_DEPTH = 50


COMPILED_CACHE_SIZE = 256


def compile_rule(rule: ast.Rule, catalog: Catalog) -> Predicate:
    """The rule as a WHERE condition on ``Account``; raises InvalidRule on a type error.

    The rule, with what its segment references expand to, must fit the budget of
    ``bookwise.rules.budget``; past it, the InvalidRule points at the first node too many.
    A rule compiled once against the same catalog is not compiled again (``_COMPILED``).
    """
    return _COMPILED.get(
        _compile_key(rule, catalog),
        lambda: _Compiler(catalog).predicate(rule, Account, negate=False),
    )


# Pages ask for the same few rules over and over, and compiling one that refers to a segment
# (aliases, subqueries) cost more than its page's three statements (0.6 ms for scenario 3b,
# docs/performance.md). The key is everything the compiled SQL depends on: the rule's JSON
# (its spans, which only errors use, left out), what the catalog resolved it against (so a
# segment edited, a user renamed or an attribute retyped is a new key), the day that
# relative dates count from and the currency that money is scaled by. A SQLAlchemy
# expression is immutable, so one compiled condition serves every session and thread, and
# the same object each time lets listings keep their statements (``bookwise.listing``).
# Errors are raised, never stored.
_COMPILED: BoundedCache[Predicate] = BoundedCache(COMPILED_CACHE_SIZE)


def _compile_key(rule: ast.Rule, catalog: Catalog) -> tuple[Hashable, ...]:
    segments = sorted(
        (key, info.id, info.name, info.rule.model_dump_json())
        for key, info in catalog.segments.items()
    )
    return (
        rule.model_dump_json(),
        tuple(sorted(catalog.attributes.items())),
        catalog.roles,
        tuple(sorted((key, tuple(users)) for key, users in catalog.users.items())),
        tuple(segments),
        catalog.today or today(),
        get_settings().currency,
    )


@dataclass
class _Compiler:
    catalog: Catalog
    segments_open: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    spending: Spending = field(default_factory=Spending)
    # Whether the SQL around the current node is a conjunction: a rule's WHERE is ANDed with
    # the caller's other conditions, and so is the inside of a subquery.
    conjunction: bool = True

    def alias(self) -> Any:
        return aliased(Account, name=f"r{next(self.counter)}")

    @property
    def today(self) -> date:
        return self.catalog.today or today()

    @contextmanager
    def nested(self, units: int, node: ast.Rule, *, conjunction: bool = True) -> Iterator[None]:
        """Compile the block ``units`` deeper, inside a conjunction (or a disjunction)."""
        outer = self.conjunction
        with self.spending.deeper(units, node):
            self.conjunction = conjunction
            try:
                yield
            finally:
                self.conjunction = outer

    # --- tree nodes ---------------------------------------------------------------------

    def predicate(self, rule: ast.Rule, table: Any, *, negate: bool) -> Predicate:
        if isinstance(rule, ast.And | ast.Or):
            conjunction = isinstance(rule, ast.And) != negate
            # Only a switch between AND and OR puts the SQL one group deeper.
            units = 0 if conjunction == self.conjunction else GROUP_DEPTH
            with self.nested(units, rule, conjunction=conjunction):
                parts = [self.predicate(item, table, negate=negate) for item in rule.items]
            return and_(*parts) if conjunction else or_(*parts)
        if isinstance(rule, ast.Not):
            return self.predicate(rule.item, table, negate=not negate)
        if isinstance(rule, ast.AnyChild):
            child = self.alias()
            with self.nested(SUBQUERY_DEPTH, rule):
                inner = self.predicate(rule.rule, child, negate=False)
            parents = select(child.parent_id).where(child.parent_id.is_not(None), inner)
            return member(table.id, parents, negate=negate)
        if isinstance(rule, ast.SegmentRef):
            with self.spending.inside_segment(rule):
                return self.segment(rule, table, negate=negate)
        self.spending.condition(rule)
        return self.condition(rule, table, negate=negate)

    def segment(self, ref: ast.SegmentRef, table: Any, *, negate: bool) -> Predicate:
        info = self.catalog.segment(ref)
        if info.name in self.segments_open:
            chain = " → ".join([*self.segments_open, info.name])
            raise InvalidRule(
                f"segments refer to each other in a cycle: {chain}", span=self.spending.where(ref)
            )
        if len(self.segments_open) >= MAX_SEGMENT_DEPTH:
            raise InvalidRule(
                f"segments nest more than {MAX_SEGMENT_DEPTH} deep", span=self.spending.where(ref)
            )
        self.segments_open.append(info.name)
        try:
            if ref.relation == "self":
                return self.predicate(info.rule, table, negate=negate)
            inside = self.alias()
            units = SUBQUERY_DEPTH if ref.relation == "parent" else ANCESTOR_DEPTH
            with self.nested(units, ref):
                members = select(inside.id).where(self.predicate(info.rule, inside, negate=False))
            if ref.relation == "parent":
                return in_parent(table, members, negate=negate)
            below = self.descendants(members)
            return member(table.id, below, negate=negate)
        finally:
            self.segments_open.pop()

    def descendants(self, roots: Select[Any]) -> Select[Any]:
        """Every account below one of ``roots`` (children, grandchildren, …): a recursive CTE."""
        first, step = self.alias(), self.alias()
        tree = (
            select(first.id)
            .where(first.parent_id.in_(roots))
            .cte(f"below{next(self.counter)}", recursive=True, nesting=True)
        )
        tree = tree.union(select(step.id).join(tree, step.parent_id == tree.c.id))
        return select(tree.c.id)

    # --- conditions ---------------------------------------------------------------------

    def condition(self, node: ast.Condition, table: Any, *, negate: bool) -> Predicate:
        if node.field.startswith("parent."):
            inner = node.model_copy(update={"field": node.field.removeprefix("parent.")})
            with self.nested(SUBQUERY_DEPTH, node):
                book = self.parent_book(inner)
                if book is not None:
                    # `parent.csm = X`: the parent is in X's book; no second accounts alias.
                    return in_parent(table, book, negate=negate)
                parent = self.alias()
                test = self.condition(inner, parent, negate=False)
            return in_parent(table, select(parent.id).where(test), negate=negate)
        spec = resolve_field(node.field, self.catalog, span=node.field_span or node.span)
        if node.op not in spec.operators:
            allowed = ", ".join(spec.operators)
            raise InvalidRule(
                f"{node.op!r} does not apply to {spec.name} ({spec.type}); use one of {allowed}",
                span=node.span,
            )
        op, negate = positive(node.op, negate)
        values = condition_values(node, op)
        if spec.kind in ("is_parent", "is_child", "company_level"):
            return self.hierarchy(spec, table, op, values, negate=negate)
        if spec.kind == "owner":
            return self.owner(spec, table, op, values, negate=negate)
        if spec.kind == "owner_count":
            count = active_owner_count(spec.role or "csm", account=table)
            numbers = [as_decimal(v, spec) for v in values]
            return compare(count, op, numbers, negate, nullable=False, limit=INT32)
        return self.column(spec, table, op, values, negate=negate)

    def hierarchy(
        self, spec: FieldSpec, table: Any, op: str, values: list[ast.Value], *, negate: bool
    ) -> Predicate:
        wanted = as_truth(spec, values[0])
        if negate:
            wanted = not wanted
        kind = spec.kind
        if kind == "company_level":
            kind = "is_parent" if as_level(values[0]) == 1 else "is_child"
        if kind == "is_child":
            parent_id: Col[Any] = table.parent_id
            return parent_id.is_not(None) if wanted else parent_id.is_(None)
        # Kept by every re-parenting (accounts.hierarchy); a column test plans well both
        # alone and beside selective conditions, where IN and EXISTS each fail one case.
        child_count: Col[int] = table.child_count
        return child_count > 0 if wanted else child_count == 0

    def owner(
        self, spec: FieldSpec, table: Any, op: str, values: list[ast.Value], *, negate: bool
    ) -> Predicate:
        role = spec.role or "csm"
        if op == "is empty":
            owned = owned_by_anyone_active(role, account=table)
            return owned if negate else ~owned
        return member(table.id, self.book(spec, values), negate=negate)

    def book(self, spec: FieldSpec, values: list[ast.Value]) -> Select[Any]:
        """The accounts any of the named users owns in the field's role (open rows)."""
        ids = sorted({self.catalog.user(as_text(v, spec)).id for v in values})
        return (
            select(Assignment.account_id)
            .where(
                Assignment.user_id.in_(ids) if len(ids) > 1 else Assignment.user_id == ids[0],
                Assignment.role == (spec.role or "csm"),
                Assignment.ended_at.is_(None),
            )
            # Never correlated, even inside a statement that joins assignments itself.
            .correlate(None)
        )

    def parent_book(self, node: ast.Condition) -> Select[Any] | None:
        """For ``parent.<owner> = / in …``: the book the parent must be in, else None."""
        if node.field.startswith("parent.") or node.op not in ("=", "in"):
            return None
        spec = resolve_field(node.field, self.catalog, span=node.field_span or node.span)
        if spec.kind != "owner":
            return None
        return self.book(spec, condition_values(node, node.op))

    def column(
        self, spec: FieldSpec, table: Any, op: str, values: list[ast.Value], *, negate: bool
    ) -> Predicate:
        expression = self.expression(spec, table)
        if op == "is empty":
            return expression.is_not(None) if negate else expression.is_(None)
        if spec.type == "datetime":
            days = [self.date(v, spec) for v in values]
            return datetime_compare(expression, op, days, negate)
        typed = [self.typed(v, spec) for v in values]
        if op in ("contains", "starts with"):
            test = text_test(spec, expression, op, str(typed[0]))
            return negated(expression, test, spec.nullable) if negate else test
        if spec.text_match == "fold":
            typed = [folded(text) for text in typed]
        limit = integer_limit(spec)
        return compare(expression, op, typed, negate, nullable=spec.nullable, limit=limit)

    def expression(self, spec: FieldSpec, table: Any) -> Col[Any]:
        if spec.kind == "custom":
            element = table.custom[spec.column]
            if spec.type in ("number", "money"):
                return element.as_float()  # type: ignore[no-any-return]
            if spec.type == "boolean":
                return element.as_boolean()  # type: ignore[no-any-return]
            as_text = element.as_string()
            return text_fold(as_text) if spec.text_match == "fold" else as_text
        column = getattr(table, spec.column or spec.name)
        return text_fold(column) if spec.text_match == "fold" else column

    def minor_units(self, amount: Decimal, value: ast.Value, spec: FieldSpec) -> Decimal:
        """An amount of money in minor units, as the column stores it.

        An amount beyond what any account can store (64-bit minor units) compares like the
        nearest value past that range, so ``mrr < 1e20`` matches every amount and
        ``mrr = 1e20`` none, without asking the database about a 20-digit literal.
        """
        if abs(amount.scaleb(currency_decimals())) > MAX_MINOR_UNITS:
            return Decimal(MAX_MINOR_UNITS + 1).copy_sign(amount)
        try:
            return Decimal(to_minor_units(format(amount, "f"), field=spec.name))
        except InvalidInput as exc:
            raise InvalidRule(exc.message, span=value.span) from None

    def typed(self, value: ast.Value, spec: FieldSpec) -> Any:
        """A rule value converted to what the field's column stores."""
        if spec.type in ("number", "count", "money"):
            # Exact Decimals for integer columns (see compare); custom numbers are floats.
            amount = as_decimal(value, spec)
            if spec.type == "money":
                amount = self.minor_units(amount, value, spec)
            return float(amount) if spec.kind == "custom" else amount
        if spec.type == "date":
            day = self.date(value, spec)
            return day.isoformat() if spec.kind == "custom" else day
        if spec.type == "boolean":
            return as_truth(spec, value)
        text = as_text(value, spec).value
        if spec.type == "choice" and spec.choices:
            return as_choice(text, spec, value)
        if spec.text_match in ("fold_column", "stored_folded"):
            return text.casefold()
        # "fold": the value is folded in SQL by the same function as the column (folded).
        return text

    def date(self, value: ast.Value, spec: FieldSpec) -> date:
        if isinstance(value, ast.DateValue):
            return value.value
        if isinstance(value, ast.RelativeDate):
            try:
                return shift(self.today, value.offset, value.unit)
            except (OverflowError, ValueError):
                raise InvalidRule(
                    f"{shown(value)} is outside the calendar (years 1 to 9999)",
                    span=value.span,
                ) from None
        if isinstance(value, ast.StringValue):
            try:
                return date.fromisoformat(value.value.strip())
            except ValueError:
                pass
        raise InvalidRule(
            f"{spec.name} is a date: expected YYYY-MM-DD or today ± N days|months, "
            f"not {shown(value)}",
            span=value.span,
        )


def shift(day: date, offset: int, unit: str) -> date:
    """``day`` moved by ``offset`` days or months; months clamp to the month's end."""
    if unit == "days":
        return day + timedelta(days=offset)
    months = day.year * 12 + day.month - 1 + offset
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
