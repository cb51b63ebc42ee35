"""Rules → one SQLAlchemy boolean expression over ``Account``: the one evaluator.

``not`` is pushed down to the leaves (De Morgan), where each condition knows its exact
complement, NULLs included: the SQL never wraps a NULL-able test in NOT, so ``not R`` always
matches exactly the accounts ``R`` does not. Segment references compile inline and hierarchy
conditions become IN-subqueries or a recursive CTE, so a rule is always one statement.
"""

from __future__ import annotations

import calendar
import itertools
import operator
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement as Col
from sqlalchemy.sql.functions import FunctionElement

from bookwise.dates import end_of_day, today
from bookwise.db import text_fold
from bookwise.errors import InvalidInput, InvalidRule
from bookwise.models import Account, Assignment, User
from bookwise.money import to_minor_units
from bookwise.rules import ast
from bookwise.rules.registry import Catalog, FieldSpec, resolve_field

Predicate = ColumnElement[bool]
MAX_SEGMENT_DEPTH = 50
# An operator and the one it is the exact complement of (the "negative" spelling).
_NEGATIVE = {"!=": "=", "not in": "in", "is not empty": "is empty"}
_INVERSE = {"=": "!=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
# Integer columns hold values in [-limit, limit); a bound outside is a constant test, because
# PostgreSQL refuses (and SQLite cannot bind) an integer parameter its column cannot hold.
_INT32, _INT64 = 2**31, 2**63
# A number written as text may use ',' only between thousands ("1,797.19", never "1797,19").
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def compile_rule(rule: ast.Rule, catalog: Catalog) -> Predicate:
    """The rule as a WHERE condition on ``Account``; raises InvalidRule on a type error."""
    return _Compiler(catalog).predicate(rule, Account, negate=False)


def matching_ids(rule: ast.Rule, catalog: Catalog) -> Select[Any]:
    """A Select of the ids of every account the rule matches (one statement)."""
    return select(Account.id).where(compile_rule(rule, catalog))


@dataclass
class _Compiler:
    catalog: Catalog
    segments_open: list[str] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def alias(self) -> Any:
        return aliased(Account, name=f"r{next(self.counter)}")

    @property
    def today(self) -> date:
        return self.catalog.today or today()

    # --- tree nodes ---------------------------------------------------------------------

    def predicate(self, rule: ast.Rule, table: Any, *, negate: bool) -> Predicate:
        if isinstance(rule, ast.And | ast.Or):
            parts = [self.predicate(item, table, negate=negate) for item in rule.items]
            conjunction = isinstance(rule, ast.And) != negate
            return and_(*parts) if conjunction else or_(*parts)
        if isinstance(rule, ast.Not):
            return self.predicate(rule.item, table, negate=not negate)
        if isinstance(rule, ast.AnyChild):
            child = self.alias()
            inner = self.predicate(rule.rule, child, negate=False)
            parents = select(child.parent_id).where(child.parent_id.is_not(None), inner)
            return _member(table.id, parents, negate=negate)
        if isinstance(rule, ast.SegmentRef):
            return self.segment(rule, table, negate=negate)
        return self.condition(rule, table, negate=negate)

    def segment(self, ref: ast.SegmentRef, table: Any, *, negate: bool) -> Predicate:
        info = self.catalog.segment(ref)
        if info.name in self.segments_open:
            chain = " → ".join([*self.segments_open, info.name])
            raise InvalidRule(f"segments refer to each other in a cycle: {chain}", span=ref.span)
        if len(self.segments_open) >= MAX_SEGMENT_DEPTH:
            raise InvalidRule(f"segments nest more than {MAX_SEGMENT_DEPTH} deep", span=ref.span)
        self.segments_open.append(info.name)
        try:
            if ref.relation == "self":
                return self.predicate(info.rule, table, negate=negate)
            member = self.alias()
            members = select(member.id).where(self.predicate(info.rule, member, negate=False))
            if ref.relation == "parent":
                return _in_parent(table, members, negate=negate)
            below = self.descendants(members)
            return _member(table.id, below, negate=negate)
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
            parent = self.alias()
            inner = node.model_copy(update={"field": node.field.removeprefix("parent.")})
            test = self.condition(inner, parent, negate=False)
            return _in_parent(table, select(parent.id).where(test), negate=negate)
        spec = resolve_field(node.field, self.catalog, span=node.field_span or node.span)
        if node.op not in spec.operators:
            allowed = ", ".join(spec.operators)
            raise InvalidRule(
                f"{node.op!r} does not apply to {spec.name} ({spec.type}); use one of {allowed}",
                span=node.span,
            )
        op, negate = _positive(node.op, negate)
        values = _values(node, op)
        if spec.kind in ("is_parent", "is_child", "company_level"):
            return self.hierarchy(spec, table, op, values, negate=negate)
        if spec.kind == "owner":
            return self.owner(spec, table, op, values, negate=negate)
        if spec.kind == "owner_count":
            count = _owner_count(table, spec.role or "csm")
            numbers = [_decimal(v, spec) for v in values]
            return _compare(count, op, numbers, negate, nullable=False, limit=_INT32)
        return self.column(spec, table, op, values, negate=negate)

    def hierarchy(
        self, spec: FieldSpec, table: Any, op: str, values: list[ast.Value], *, negate: bool
    ) -> Predicate:
        wanted = _truth(spec, values[0])
        if negate:
            wanted = not wanted
        kind = spec.kind
        if kind == "company_level":
            kind = "is_parent" if _level(values[0]) == 1 else "is_child"
        if kind == "is_child":
            parent_id: Col[Any] = table.parent_id
            return parent_id.is_not(None) if wanted else parent_id.is_(None)
        child = self.alias()
        parents = select(child.parent_id).where(child.parent_id.is_not(None))
        return _member(table.id, parents, negate=not wanted)

    def owner(
        self, spec: FieldSpec, table: Any, op: str, values: list[ast.Value], *, negate: bool
    ) -> Predicate:
        role = spec.role or "csm"
        if op == "is empty":
            owned = _owned_by_anyone_active(table, role)
            return owned if negate else ~owned
        ids = sorted({self.catalog.user(_string(v, spec)).id for v in values})
        book = (
            select(Assignment.account_id)
            .where(
                Assignment.user_id.in_(ids) if len(ids) > 1 else Assignment.user_id == ids[0],
                Assignment.role == role,
                Assignment.ended_at.is_(None),
            )
            # Never correlated, even inside a statement that joins assignments itself.
            .correlate(None)
        )
        return _member(table.id, book, negate=negate)

    def column(
        self, spec: FieldSpec, table: Any, op: str, values: list[ast.Value], *, negate: bool
    ) -> Predicate:
        expression = self.expression(spec, table)
        if op == "is empty":
            return expression.is_not(None) if negate else expression.is_(None)
        if spec.type == "datetime":
            days = [self.date(v, spec) for v in values]
            return _datetime_compare(expression, op, days, negate)
        typed = [self.typed(v, spec) for v in values]
        if op in ("contains", "starts with"):
            test = _text_test(spec, expression, op, str(typed[0]))
            return _negated(expression, test, spec.nullable) if negate else test
        if spec.text_match == "fold":
            typed = [_folded(text) for text in typed]
        limit = _integer_limit(spec)
        return _compare(expression, op, typed, negate, nullable=spec.nullable, limit=limit)

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

    def typed(self, value: ast.Value, spec: FieldSpec) -> Any:
        """A rule value converted to what the field's column stores."""
        if spec.type in ("number", "count", "money"):
            # Exact Decimals for integer columns (see _compare); custom numbers are floats.
            amount = _decimal(value, spec)
            if spec.type == "money":
                try:
                    amount = Decimal(to_minor_units(format(amount, "f"), field=spec.name))
                except InvalidInput as exc:
                    raise InvalidRule(exc.message, span=value.span) from None
            return float(amount) if spec.kind == "custom" else amount
        if spec.type == "date":
            day = self.date(value, spec)
            return day.isoformat() if spec.kind == "custom" else day
        if spec.type == "boolean":
            return _truth(spec, value)
        text = _string(value, spec).value
        if spec.type == "choice" and spec.choices:
            return _choice(text, spec, value)
        if spec.text_match in ("fold_column", "stored_folded"):
            return text.casefold()
        # "fold": the value is folded in SQL by the same function as the column (_folded).
        return text

    def date(self, value: ast.Value, spec: FieldSpec) -> date:
        if isinstance(value, ast.DateValue):
            return value.value
        if isinstance(value, ast.RelativeDate):
            try:
                return shift(self.today, value.offset, value.unit)
            except (OverflowError, ValueError):
                raise InvalidRule(
                    f"{_shown(value)} is outside the calendar (years 1 to 9999)",
                    span=value.span,
                ) from None
        if isinstance(value, ast.StringValue):
            try:
                return date.fromisoformat(value.value.strip())
            except ValueError:
                pass
        raise InvalidRule(
            f"{spec.name} is a date: expected YYYY-MM-DD or today ± N days|months, "
            f"not {_shown(value)}",
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


# --- leaves --------------------------------------------------------------------------------


def _positive(op: str, negate: bool) -> tuple[str, bool]:
    """``!=``, ``not in`` and ``is not empty`` are the complements of their positive forms."""
    if op in _NEGATIVE:
        return _NEGATIVE[op], not negate
    return op, negate


def _values(node: ast.Condition, op: str) -> list[ast.Value]:
    value = node.value
    listed = value if isinstance(value, list) else [] if value is None else [value]
    arity = {"is empty": 0, "between": 2}.get(op, 1)
    if op == "in":
        if not listed:
            raise InvalidRule(f"{node.field} in (…) needs at least one value", span=node.span)
        return listed
    if len(listed) != arity:
        wanted = {0: "no value", 1: "one value", 2: "two values"}[arity]
        raise InvalidRule(f"{op!r} takes {wanted}", span=node.span)
    return listed


def _compare(
    expression: Col[Any],
    op: str,
    values: list[Any],
    negate: bool,
    *,
    nullable: bool,
    limit: int | None = None,
) -> Predicate:
    """``expression op values``, or its exact complement; ``limit``: an integer expression."""
    if op == "in" and limit is not None:
        values = sorted({int(v) for v in values if _fits(v, limit)})
    if op == "in":
        test: Predicate = _in(expression, values, negate=False)
    elif op == "between":
        low, high = values
        test = and_(_atom(expression, ">=", low, limit), _atom(expression, "<=", high, limit))
    else:
        test = _atom(expression, op, values[0], limit)
    if not negate:
        return test
    if op == "in":
        inverse = _in(expression, values, negate=True)
    elif op == "between":
        low, high = values
        inverse = or_(_atom(expression, "<", low, limit), _atom(expression, ">", high, limit))
    else:
        inverse = _atom(expression, _INVERSE[op], values[0], limit)
    return or_(expression.is_(None), inverse) if nullable else inverse


def _in(expression: Col[Any], values: list[Any], *, negate: bool) -> Predicate:
    if not values:  # no value the expression can hold was listed
        return expression.is_not(None) if negate else false()
    if len(values) == 1:
        return _operator(expression, "!=" if negate else "=", values[0])
    test: Predicate = expression.not_in(values) if negate else expression.in_(values)
    return test


def _atom(expression: Col[Any], op: str, value: Any, limit: int | None) -> Predicate:
    """One comparison; on an integer expression, exact for any Decimal bound."""
    if limit is None:
        return _operator(expression, op, value)
    if op in ("=", "!=") and value != value.to_integral_value():
        return expression.is_not(None) if op == "!=" else false()
    # x < 2.5 is x < 3 and x <= 2.5 is x <= 2 for integers: the bound becomes a whole number.
    rounding = ROUND_CEILING if op in ("<", ">=") else ROUND_FLOOR
    bound = int(value.to_integral_value(rounding=rounding))
    if -limit <= bound < limit:
        return _operator(expression, op, bound)
    # Out of range: every value the column holds is below (or above) the bound.
    holds = op in ("<", "<=", "!=") if bound >= limit else op in (">", ">=", "!=")
    return expression.is_not(None) if holds else false()


def _fits(value: Decimal, limit: int) -> bool:
    return value == value.to_integral_value() and -limit <= value < limit


def _integer_limit(spec: FieldSpec) -> int | None:
    """The range of an integer column (number, money), else None."""
    if spec.kind != "column" or spec.type not in ("number", "money"):
        return None
    column_type = Account.__table__.c[spec.column or spec.name].type
    if isinstance(column_type, BigInteger):
        return _INT64
    return _INT32 if isinstance(column_type, Integer) else None


def _folded(text: str) -> Col[Any]:
    """A text value folded in SQL by the function that folds the column it is compared with."""
    return text_fold(literal(text, String()))


class _position(FunctionElement[int]):
    """Where ``needle`` first occurs in ``text`` (1-based, 0 when absent), exactly (case counts).

    SQLite's LIKE ignores ASCII case, PostgreSQL's does not: exact text never goes through LIKE.
    """

    type = Integer()
    name = "bw_position"
    inherit_cache = True


@compiles(_position)
def _position_default(element: _position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(_position, "sqlite")
def _position_sqlite(element: _position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


def _text_test(spec: FieldSpec, expression: Col[Any], op: str, text: str) -> Predicate:
    if spec.text_match == "fold":
        at: Col[int] = _position(expression, _folded(text))
        return at > 0 if op == "contains" else at == 1
    if op == "contains":
        like = expression.contains(text, autoescape=True)
    else:
        like = expression.startswith(text, autoescape=True)
    if spec.text_match != "exact":
        return like  # folded text against a folded value: LIKE's case rules never matter
    # SQLite's LIKE ignores ASCII case: exact text checks the position too (the LIKE stays so
    # that a prefix search can still use an index).
    at = _position(expression, literal(text, String()))
    return at > 0 if op == "contains" else and_(like, at == 1)


def _negated(expression: Col[Any], test: Predicate, nullable: bool) -> Predicate:
    inverse = ~test
    return or_(expression.is_(None), inverse) if nullable else inverse


def _operator(expression: Col[Any], op: str, value: Any) -> Predicate:
    compare = {
        "=": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }[op]
    result: Predicate = compare(expression, value)
    return result


def _datetime_compare(expression: Col[Any], op: str, days: list[date], negate: bool) -> Predicate:
    """Moments compared by calendar day in the installation's time zone (never empty)."""
    start, end = _instant(days[0], 0), _instant(days[-1], 1)
    # Beyond the calendar's ends a bound is before (start) or after (end) every stored time.
    since_start = expression >= start if start is not None else true()
    since_end = expression >= end if end is not None else false()
    if op in ("=", "between"):
        inside = and_(since_start, ~since_end)
        return or_(~since_start, since_end) if negate else inside
    test = {"<": ~since_start, "<=": ~since_end, ">": since_end, ">=": since_start}[op]
    return ~test if negate else test


def _instant(day: date, days_after: int) -> datetime | None:
    """The first instant of ``day`` (+ ``days_after``) in UTC; None past the calendar's ends."""
    try:
        return end_of_day(day + timedelta(days=days_after - 1))
    except (OverflowError, ValueError):
        return None


def _in_parent(table: Any, parents: Select[Any], *, negate: bool) -> Predicate:
    """The account has a parent among ``parents`` (negated: it has none there, or no parent)."""
    parent_id: Col[Any] = table.parent_id
    if negate:
        return or_(parent_id.is_(None), parent_id.not_in(parents))
    return parent_id.in_(parents)


def _member(column: Col[Any], rows: Select[Any], *, negate: bool) -> Predicate:
    return column.not_in(rows) if negate else column.in_(rows)


def _owned_by_anyone_active(table: Any, role: str) -> Predicate:
    return exists(
        select(Assignment.id)
        .join(User, User.id == Assignment.user_id)
        .where(
            Assignment.account_id == table.id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
            User.active.is_(True),
        )
        # Correlated with the account only, even where the statement joins assignments.
        .correlate(table)
    )


def _owner_count(table: Any, role: str) -> Col[Any]:
    return (
        select(func.count(Assignment.id))
        .join(User, User.id == Assignment.user_id)
        .where(
            Assignment.account_id == table.id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
            User.active.is_(True),
        )
        .correlate(table)
        .scalar_subquery()
    )


# --- values --------------------------------------------------------------------------------


def _shown(value: ast.Value) -> str:
    from bookwise.rules.printer import print_value

    return print_value(value)


def _decimal(value: ast.Value, spec: FieldSpec) -> Decimal:
    if isinstance(value, ast.NumberValue):
        return value.value
    hint = ""
    if isinstance(value, ast.StringValue):
        text = value.value.strip()
        if "," in text and not _THOUSANDS.match(text):
            hint = "; use '.' for decimals and ',' only between thousands (1,797.19)"
        else:
            try:
                number = Decimal(text.replace(",", ""))
                if number.is_finite():
                    return number
            except InvalidOperation:
                pass
    kind = "an amount of money" if spec.type == "money" else "a number"
    raise InvalidRule(f"{spec.name} is {kind}, not {_shown(value)}{hint}", span=value.span)


def _string(value: ast.Value, spec: FieldSpec) -> ast.StringValue:
    if isinstance(value, ast.StringValue):
        return value
    if isinstance(value, ast.NumberValue) and spec.type == "text":
        return ast.StringValue(value=_shown(value), span=value.span)
    raise InvalidRule(
        f"{spec.name} is {spec.type}: expected text, not {_shown(value)}", span=value.span
    )


def _truth(spec: FieldSpec, value: ast.Value) -> bool:
    if spec.type == "level":
        return True
    if isinstance(value, ast.BooleanValue):
        return value.value
    if isinstance(value, ast.StringValue) and value.value.casefold() in ("true", "false"):
        return value.value.casefold() == "true"
    raise InvalidRule(f"{spec.name} is true or false, not {_shown(value)}", span=value.span)


def _level(value: ast.Value) -> int:
    if isinstance(value, ast.NumberValue) and value.value in (0, 1):
        return int(value.value)
    raise InvalidRule(
        f"company level is 1 (a parent company) or 0 (a child company), not {_shown(value)}; "
        "for the position in the hierarchy use depth (0 at the top)",
        span=value.span,
    )


def _choice(text: str, spec: FieldSpec, value: ast.Value) -> str:
    for choice in spec.choices:
        if choice.casefold() == text.casefold():
            return choice
    from bookwise.rules.registry import suggest

    listed = ", ".join(spec.choices)
    hint = suggest(text, list(spec.choices))
    raise InvalidRule(f"{spec.name} is one of {listed}, not {text!r}{hint}", span=value.span)
