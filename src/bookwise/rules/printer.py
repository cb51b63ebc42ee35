"""AST → canonical rule text; ``parse_rule(print_rule(r))`` gives ``r`` back."""

from __future__ import annotations

from decimal import Decimal

from bookwise.rules import ast

_FIELD_WORDS = {"company_level": "company level", "csm_count": "csm count"}


def print_rule(rule: ast.Rule) -> str:
    """The canonical text of a rule: keywords lower case, texts double-quoted."""
    if isinstance(rule, ast.And | ast.Or):
        joiner = " and " if isinstance(rule, ast.And) else " or "
        return joiner.join(_grouped(item) for item in rule.items)
    if isinstance(rule, ast.Not):
        item = rule.item
        if isinstance(item, ast.SegmentRef) or _is_bare_boolean(item):
            return f"not {print_rule(item)}"
        # `not (region in ("EMEA"))` rather than `not region in ("EMEA")`, which reads as if
        # `not` applied to the field alone.
        return f"not ({print_rule(item)})"
    if isinstance(rule, ast.AnyChild):
        return f"any child ({print_rule(rule.rule)})"
    if isinstance(rule, ast.SegmentRef):
        prefix = "" if rule.relation == "self" else f"{rule.relation} "
        return f"{prefix}in segment {quote(rule.name)}"
    return _condition(rule)


def _grouped(rule: ast.Rule) -> str:
    # Nested and/or are always parenthesised, so the printed text keeps the tree's shape.
    text = print_rule(rule)
    return f"({text})" if isinstance(rule, ast.And | ast.Or) else text


def _is_bare_boolean(rule: ast.Rule) -> bool:
    return (
        isinstance(rule, ast.Condition)
        and rule.op == "="
        and isinstance(rule.value, ast.BooleanValue)
        and rule.value.value
    )


def _condition(condition: ast.Condition) -> str:
    field = _FIELD_WORDS.get(condition.field, condition.field)
    value = condition.value
    if condition.op == "=" and isinstance(value, ast.BooleanValue) and value.value:
        return field
    if condition.op in ("is empty", "is not empty"):
        return f"{field} {condition.op}"
    if condition.op in ("in", "not in"):
        items = value if isinstance(value, list) else [] if value is None else [value]
        return f"{field} {condition.op} ({', '.join(print_value(v) for v in items)})"
    if condition.op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{field} between {print_value(value[0])} and {print_value(value[1])}"
    if isinstance(value, list):
        listed = ", ".join(print_value(v) for v in value)
        return f"{field} {condition.op} ({listed})"
    return f"{field} {condition.op} {print_value(value) if value is not None else 'empty'}"


def print_value(value: ast.Value) -> str:
    """One value as rule text."""
    if isinstance(value, ast.StringValue):
        return quote(value.value)
    if isinstance(value, ast.NumberValue):
        return _decimal(value.value)
    if isinstance(value, ast.BooleanValue):
        return "true" if value.value else "false"
    if isinstance(value, ast.DateValue):
        return value.value.isoformat()
    if value.offset == 0 and value.unit == "days":
        return "today"
    sign = "-" if value.offset < 0 else "+"
    unit = value.unit.removesuffix("s") if abs(value.offset) == 1 else value.unit
    return f"today {sign} {abs(value.offset)} {unit}"


def quote(text: str) -> str:
    """``text`` in double quotes, with ``\\`` and ``"`` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _decimal(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
