"""Rules in English, for the CLI and the UI: ``Tier is 1 and health score is below 50``."""

from __future__ import annotations

from bookwise.errors import InvalidInput
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
        if isinstance(rule.item, ast.Not):
            # ``not`` is the exact complement, so two of them cancel out.
            return _grouped(rule.item.item, catalog)
        if isinstance(rule.item, ast.Condition):
            flipped = _hierarchy(rule.item, catalog, negate=True)
            if flipped is not None:
                return flipped
        if isinstance(rule.item, ast.SegmentRef):
            return _segment(rule.item, negate=True)
        return f"not ({_describe(rule.item, catalog)})"
    if isinstance(rule, ast.AnyChild):
        inner = _grouped(rule.rule, catalog, always=True)
        # "is a parent company", "has no CSM" describe the child itself: "a child that is …".
        link = "that" if inner.startswith(("is ", "has ")) else "where"
        return f"has a child {link} {inner}"
    if isinstance(rule, ast.SegmentRef):
        return _segment(rule, negate=False)
    return _condition(rule, catalog)


def _segment(ref: ast.SegmentRef, *, negate: bool) -> str:
    who = {
        "self": ("is", "is not"),
        "parent": ("the parent is", "the parent is not"),
        "ancestor": ("an ancestor is", "no ancestor is"),
    }
    return f"{who[ref.relation][negate]} in segment “{ref.name}”"


def _grouped(rule: ast.Rule, catalog: Catalog, *, always: bool = False) -> str:
    text = _describe(rule, catalog)
    compound = isinstance(rule, ast.And | ast.Or)
    return f"({text})" if compound or (always and text.startswith("not (")) else text


def _spec(field: str, catalog: Catalog) -> FieldSpec | None:
    builtin = builtin_fields()
    if field in builtin:
        return builtin[field]
    if field.startswith("custom.") and field.removeprefix("custom.") in catalog.attributes:
        return custom_field(catalog.attributes[field.removeprefix("custom.")])
    if field in catalog.roles:
        return role_field(field)
    return None


def _split(field: str) -> tuple[int, str]:
    """How many ``parent.`` prefixes a field has, and the field behind them."""
    parents = 0
    while field.startswith("parent."):
        field = field.removeprefix("parent.")
        parents += 1
    return parents, field


def _label(field: str, spec: FieldSpec | None) -> str:
    # Unknown fields read like the catalog would name them: custom.deal_size → "deal size".
    return spec.label if spec else field.removeprefix("custom.").replace("_", " ")


def _values(node: ast.Condition) -> list[ast.Value]:
    value = node.value
    return value if isinstance(value, list) else [] if value is None else [value]


def _hierarchy(node: ast.Condition, catalog: Catalog, *, negate: bool = False) -> str | None:
    """``is a parent company`` and kin for a true/false test of is_parent / is_child."""
    parents, field = _split(node.field)
    spec = _spec(field, catalog)
    if spec is None or spec.kind not in ("is_parent", "is_child") or node.op not in ("=", "!="):
        return None
    if not isinstance(node.value, ast.BooleanValue):
        return None
    truth = (node.value.value == (node.op == "=")) != negate
    positive, negative = _BOOLEAN_WORDS[spec.kind]
    phrase = positive if truth else negative
    if not parents:
        return phrase
    subject = "the parent" + "'s parent" * (parents - 1)
    return f"{subject} {phrase}"


def _condition(node: ast.Condition, catalog: Catalog) -> str:
    hierarchy = _hierarchy(node, catalog)
    if hierarchy is not None:
        return hierarchy
    parents, field = _split(node.field)
    owners = "the parent's " + "parent's " * (parents - 1) if parents else ""
    spec = _spec(field, catalog)
    label = _label(field, spec)
    values = _values(node)
    if spec is not None and spec.kind == "company_level" and _one_of(node, "=", "!="):
        level = print_value(values[0])
        meaning = {"1": "a parent company", "0": "a child company"}.get(level, "")
        verb = "is" if node.op == "=" else "is not"
        return f"{owners}company level {verb} {level}" + (f" ({meaning})" if meaning else "")
    if spec is not None and spec.kind == "owner":
        owned = _owner(label, node.op, values)
        if owned is not None:
            return owners + owned
    return owners + _compared(node, spec, label, values)


def _compared(
    node: ast.Condition, spec: FieldSpec | None, label: str, values: list[ast.Value]
) -> str:
    shown = [_value(v, spec) for v in values]
    verb = OPERATOR_SPECS[node.op].english
    if spec is not None and spec.type in ("date", "datetime") and node.op in _DATE_WORDS:
        verb = _DATE_WORDS[node.op]
    if node.op in ("is empty", "is not empty"):
        return f"{label} {verb}"
    if node.op == "between" and len(shown) == 2:
        return f"{label} is between {shown[0]} and {shown[1]}"
    boolean = spec is not None and spec.type == "boolean"
    if boolean and _one_of(node, "=", "!=") and isinstance(node.value, ast.BooleanValue):
        truth = node.value.value == (node.op == "=")
        return f"{label} is {'true' if truth else 'false'}"
    # Lists, and any value count the operator does not expect (a rule that will not compile).
    return f"{label} {verb} {', '.join(shown) if shown else 'nothing'}"


def _one_of(node: ast.Condition, *ops: str) -> bool:
    """The condition uses one of ``ops`` with exactly one value."""
    return node.op in ops and node.value is not None and not isinstance(node.value, list)


def _owner(label: str, op: str, values: list[ast.Value]) -> str | None:
    names = [v.value if isinstance(v, ast.StringValue) else print_value(v) for v in values]
    if op == "is empty":
        return f"has no {label}"
    if op == "is not empty":
        return f"has a {label}"
    if op in ("=", "!=", "in", "not in") and names:
        negative = op in ("!=", "not in")
        if len(names) == 1:
            return f"{label} is {'not ' if negative else ''}{names[0]}"
        listed = ", ".join(names[:-1]) + (" nor " if negative else " or ") + names[-1]
        return f"{label} is {'neither ' if negative else ''}{listed}"
    return None


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
        except (InvalidInput, ArithmeticError):
            # More decimals than the currency has: the compiler refuses it; show it as typed.
            return print_value(value)
    if isinstance(value, ast.StringValue):
        return f"“{value.value}”"
    return print_value(value)
