"""Rules in English, for the CLI and the UI: ``Tier is 1 and health score is below 50``."""

from __future__ import annotations

from bookwise.money import from_minor_units, to_minor_units
from bookwise.rules import ast
from bookwise.rules.printer import print_value
from bookwise.rules.registry import (
    OPERATOR_SPECS,
    Catalog,
    FieldSpec,
    builtin_fields,
    custom_field,
    role_field,
)

_DATE_WORDS = {"<": "is before", "<=": "is on or before", ">": "is after", ">=": "is on or after"}
_BOOLEAN_WORDS = {
    "is_parent": ("is a parent company", "is not a parent company"),
    "is_child": ("is a child company", "is not a child company"),
}


def describe_rule(rule: ast.Rule, catalog: Catalog | None = None) -> str:
    """The rule as one English sentence, first letter capitalised."""
    text = _describe(rule, catalog or Catalog())
    return text[:1].upper() + text[1:]


def _describe(rule: ast.Rule, catalog: Catalog) -> str:
    if isinstance(rule, ast.And | ast.Or):
        joiner = " and " if isinstance(rule, ast.And) else " or "
        return joiner.join(_grouped(item, catalog) for item in rule.items)
    if isinstance(rule, ast.Not):
        inner = _describe(rule.item, catalog)
        return f"not {inner}" if isinstance(rule.item, ast.SegmentRef) else f"not ({inner})"
    if isinstance(rule, ast.AnyChild):
        return f"has a child where {_grouped(rule.rule, catalog, always=True)}"
    if isinstance(rule, ast.SegmentRef):
        who = {"self": "is", "parent": "the parent is", "ancestor": "an ancestor is"}
        return f"{who[rule.relation]} in segment “{rule.name}”"
    return _condition(rule, catalog)


def _grouped(rule: ast.Rule, catalog: Catalog, *, always: bool = False) -> str:
    text = _describe(rule, catalog)
    compound = isinstance(rule, ast.And | ast.Or)
    return f"({text})" if compound or (always and isinstance(rule, ast.Not)) else text


def _spec(field: str, catalog: Catalog) -> FieldSpec | None:
    builtin = builtin_fields()
    if field in builtin:
        return builtin[field]
    if field.startswith("custom.") and field.removeprefix("custom.") in catalog.attributes:
        return custom_field(catalog.attributes[field.removeprefix("custom.")])
    if field in catalog.roles:
        return role_field(field)
    return None


def _condition(node: ast.Condition, catalog: Catalog) -> str:
    field, owners = node.field, ""
    while field.startswith("parent."):
        field = field.removeprefix("parent.")
        owners += "the parent's "
    spec = _spec(field, catalog)
    label = spec.label if spec else field
    values = (
        node.value if isinstance(node.value, list) else [] if node.value is None else [node.value]
    )
    if spec is not None and spec.kind in ("is_parent", "is_child"):
        truth = not (isinstance(node.value, ast.BooleanValue) and not node.value.value)
        truth = truth != (node.op == "!=")
        positive, negative = _BOOLEAN_WORDS[spec.kind]
        phrase = positive if truth else negative
        return f"the parent {phrase}" if owners else phrase
    if spec is not None and spec.kind == "company_level":
        level = print_value(values[0]) if values else "?"
        meaning = {"1": "a parent company", "0": "a child company"}.get(level, "")
        verb = "is" if node.op == "=" else "is not"
        return f"{owners}company level {verb} {level}" + (f" ({meaning})" if meaning else "")
    if spec is not None and spec.kind == "owner":
        return owners + _owner(label, node.op, values)
    shown = [_value(v, spec) for v in values]
    verb = OPERATOR_SPECS[node.op].english
    if spec is not None and spec.type in ("date", "datetime") and node.op in _DATE_WORDS:
        verb = _DATE_WORDS[node.op]
    if node.op == "between":
        return f"{owners}{label} is between {shown[0]} and {shown[1]}"
    if node.op in ("in", "not in"):
        return f"{owners}{label} {verb} {', '.join(shown)}"
    if node.op in ("is empty", "is not empty"):
        return f"{owners}{label} {verb}"
    if spec is not None and spec.type == "boolean":
        truth = isinstance(node.value, ast.BooleanValue) and node.value.value
        truth = truth != (node.op == "!=")
        return f"{owners}{label} is {'true' if truth else 'false'}"
    return f"{owners}{label} {verb} {shown[0]}"


def _owner(label: str, op: str, values: list[ast.Value]) -> str:
    names = [v.value if isinstance(v, ast.StringValue) else print_value(v) for v in values]
    if op == "is empty":
        return f"has no {label}"
    if op == "is not empty":
        return f"has a {label}"
    if op == "=":
        return f"{label} is {names[0]}"
    if op == "!=":
        return f"{label} is not {names[0]}"
    listed = " or ".join(names)
    return f"{label} is {listed}" if op == "in" else f"{label} is neither {listed}"


def _value(value: ast.Value, spec: FieldSpec | None) -> str:
    if isinstance(value, ast.RelativeDate):
        if value.offset == 0:
            return "today"
        unit = value.unit if abs(value.offset) != 1 else value.unit.rstrip("s")
        when = "from today" if value.offset > 0 else "ago"
        return f"{abs(value.offset)} {unit} {when}"
    if spec is not None and spec.type == "money" and isinstance(value, ast.NumberValue):
        try:
            return f"{from_minor_units(to_minor_units(value.value)):,}"
        except Exception:
            return print_value(value)
    if isinstance(value, ast.StringValue):
        return f"“{value.value}”"
    return print_value(value)
