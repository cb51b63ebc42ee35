"""SQL for one condition: each comparison and its exact complement, NULLs included."""

from __future__ import annotations

import operator
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    false,
    literal,
    or_,
    true,
)
from sqlalchemy.sql.elements import ColumnElement as Col
from sqlalchemy.sql.functions import FunctionElement

from bookwise.dates import end_of_day
from bookwise.db import render_per_dialect, text_fold
from bookwise.errors import InvalidRule
from bookwise.models import Account
from bookwise.rules import ast
from bookwise.rules.registry import FieldSpec

Predicate = ColumnElement[bool]
# An operator and the one it is the exact complement of (the "negative" spelling).
NEGATIVE = {"!=": "=", "not in": "in", "is not empty": "is empty"}
INVERSE = {"=": "!=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
# Integer columns hold values in [-limit, limit); a bound outside is a constant test, because
# PostgreSQL refuses (and SQLite cannot bind) an integer parameter its column cannot hold.
INT32, INT64 = 2**31, 2**63


def positive(op: str, negate: bool) -> tuple[str, bool]:
    """``!=``, ``not in`` and ``is not empty`` are the complements of their positive forms."""
    if op in NEGATIVE:
        return NEGATIVE[op], not negate
    return op, negate


def condition_values(node: ast.Condition, op: str) -> list[ast.Value]:
    """The condition's values, checked against the operator's arity."""
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


def compare(
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
        values = sorted({int(v) for v in values if fits(v, limit)})
    if op == "in":
        test: Predicate = in_list(expression, values, negate=False)
    elif op == "between":
        low, high = values
        test = and_(
            bound_test(expression, ">=", low, limit), bound_test(expression, "<=", high, limit)
        )
    else:
        test = bound_test(expression, op, values[0], limit)
    if not negate:
        return test
    if op == "in":
        inverse = in_list(expression, values, negate=True)
    elif op == "between":
        low, high = values
        inverse = or_(
            bound_test(expression, "<", low, limit), bound_test(expression, ">", high, limit)
        )
    else:
        inverse = bound_test(expression, INVERSE[op], values[0], limit)
    return or_(expression.is_(None), inverse) if nullable else inverse


def in_list(expression: Col[Any], values: list[Any], *, negate: bool) -> Predicate:
    """``expression in values`` (or its complement), never with an empty list."""
    if not values:  # no value the expression can hold was listed
        return expression.is_not(None) if negate else false()
    if len(values) == 1:
        return comparison(expression, "!=" if negate else "=", values[0])
    test: Predicate = expression.not_in(values) if negate else expression.in_(values)
    return test


def bound_test(expression: Col[Any], op: str, value: Any, limit: int | None) -> Predicate:
    """One comparison; on an integer expression, exact for any Decimal bound."""
    if limit is None:
        return comparison(expression, op, value)
    if op in ("=", "!=") and value != value.to_integral_value():
        return expression.is_not(None) if op == "!=" else false()
    # x < 2.5 is x < 3 and x <= 2.5 is x <= 2 for integers: the bound becomes a whole number.
    rounding = ROUND_CEILING if op in ("<", ">=") else ROUND_FLOOR
    bound = int(value.to_integral_value(rounding=rounding))
    if -limit <= bound < limit:
        return comparison(expression, op, bound)
    # Out of range: every value the column holds is below (or above) the bound.
    holds = op in ("<", "<=", "!=") if bound >= limit else op in (">", ">=", "!=")
    return expression.is_not(None) if holds else false()


def fits(value: Decimal, limit: int) -> bool:
    """True when ``value`` is a whole number an integer column of range ``limit`` holds."""
    return value == value.to_integral_value() and -limit <= value < limit


def integer_limit(spec: FieldSpec) -> int | None:
    """The range of an integer column (number, money), else None."""
    if spec.kind != "column" or spec.type not in ("number", "money"):
        return None
    column_type = Account.__table__.c[spec.column or spec.name].type
    if isinstance(column_type, BigInteger):
        return INT64
    return INT32 if isinstance(column_type, Integer) else None


def folded(text: str) -> Col[Any]:
    """A text value folded in SQL by the function that folds the column it is compared with."""
    return text_fold(literal(text, String()))


class _position(FunctionElement[int]):
    """Where ``needle`` first occurs in ``text`` (1-based, 0 when absent), exactly (case counts).

    SQLite's LIKE ignores ASCII case, PostgreSQL's does not: exact text never goes through LIKE.
    """

    type = Integer()
    name = "bw_position"
    inherit_cache = True


render_per_dialect(_position, default="strpos", sqlite="instr")


def text_test(spec: FieldSpec, expression: Col[Any], op: str, text: str) -> Predicate:
    """``contains`` / ``starts with`` on a text expression, with the field's case rules."""
    if spec.text_match == "fold":
        at: Col[int] = _position(expression, folded(text))
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


def negated(expression: Col[Any], test: Predicate, nullable: bool) -> Predicate:
    """The exact complement of a text test (an empty value is not matched by the test)."""
    inverse = ~test
    return or_(expression.is_(None), inverse) if nullable else inverse


def comparison(expression: Col[Any], op: str, value: Any) -> Predicate:
    """``expression op value`` for one of = != < <= > >=."""
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


def datetime_compare(expression: Col[Any], op: str, days: list[date], negate: bool) -> Predicate:
    """Moments compared by calendar day in the installation's time zone (never empty)."""
    start, end = instant(days[0], 0), instant(days[-1], 1)
    # Beyond the calendar's ends a bound is before (start) or after (end) every stored time.
    since_start = expression >= start if start is not None else true()
    since_end = expression >= end if end is not None else false()
    if op in ("=", "between"):
        inside = and_(since_start, ~since_end)
        return or_(~since_start, since_end) if negate else inside
    test = {"<": ~since_start, "<=": ~since_end, ">": since_end, ">=": since_start}[op]
    return ~test if negate else test


def instant(day: date, days_after: int) -> datetime | None:
    """The first instant of ``day`` (+ ``days_after``) in UTC; None past the calendar's ends."""
    try:
        return end_of_day(day + timedelta(days=days_after - 1))
    except (OverflowError, ValueError):
        return None


def in_parent(table: Any, parents: Select[Any], *, negate: bool) -> Predicate:
    """The account has a parent among ``parents`` (negated: it has none there, or no parent)."""
    parent_id: Col[Any] = table.parent_id
    if negate:
        return or_(parent_id.is_(None), parent_id.not_in(parents))
    return parent_id.in_(parents)


def member(column: Col[Any], rows: Select[Any], *, negate: bool) -> Predicate:
    """``column IN rows`` or, negated, ``column NOT IN rows`` (rows never hold NULL)."""
    return column.not_in(rows) if negate else column.in_(rows)
