"""Reading and rewriting what a rule refers to: users, segments, custom attributes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bookwise.rules import ast
from bookwise.rules.registry import segment_key


def segment_names(rule: ast.Rule) -> list[str]:
    """The names of the segments the rule refers to directly, in order of appearance."""
    return [node.name for node in ast.walk(rule) if isinstance(node, ast.SegmentRef)]


def field_names(rules: Iterable[ast.Rule]) -> set[str]:
    """Every field the rules compare, without ``parent.`` prefixes."""
    return {
        _strip_parents(node.field)
        for rule in rules
        for node in ast.walk(rule)
        if isinstance(node, ast.Condition)
    }


def user_values(rule: ast.Rule, owner_fields: Iterable[str]) -> list[str]:
    """Every value compared with an owner field (``csm``, roles), as written."""
    owners = set(owner_fields)
    found: list[str] = []
    for node in ast.walk(rule):
        if not isinstance(node, ast.Condition):
            continue
        if _strip_parents(node.field) not in owners:
            continue
        values = node.value if isinstance(node.value, list) else [node.value]
        found.extend(v.value for v in values if isinstance(v, ast.StringValue))
    return found


def _strip_parents(field: str) -> str:
    while field.startswith("parent."):
        field = field.removeprefix("parent.")
    return field


def rename_field(rule: ast.Rule, old: str, new: str) -> ast.Rule:
    """The rule with field ``old`` (also behind ``parent.``) renamed to ``new``."""

    def change(node: ast.Rule) -> ast.Rule:
        if isinstance(node, ast.Condition) and _strip_parents(node.field) == old:
            prefix = node.field[: len(node.field) - len(old)]
            return node.model_copy(update={"field": prefix + new})
        return node

    return _map(rule, change)


def numbers_as_text(rule: ast.Rule, text_fields: Iterable[str]) -> ast.Rule:
    """The rule with bare numbers compared with text fields turned into the text as typed.

    ``external_id = 007`` keeps its leading zeros when the rule is saved and printed again.
    """
    texts = set(text_fields)

    def as_text(value: ast.Value) -> ast.Value:
        if isinstance(value, ast.NumberValue) and value.text is not None:
            return ast.StringValue(value=value.text, span=value.span)
        return value

    def change(node: ast.Rule) -> ast.Rule:
        if not isinstance(node, ast.Condition) or _strip_parents(node.field) not in texts:
            return node
        value = node.value
        changed = [as_text(v) for v in value] if isinstance(value, list) else value
        if isinstance(value, ast.NumberValue):
            changed = as_text(value)
        return node.model_copy(update={"value": changed})

    return _map(rule, change)


def rename_segment(rule: ast.Rule, old: str, new: str) -> ast.Rule:
    """The rule with references to segment ``old`` pointing at ``new`` instead."""
    key = segment_key(old)

    def change(node: ast.Rule) -> ast.Rule:
        if isinstance(node, ast.SegmentRef) and segment_key(node.name) == key:
            return node.model_copy(update={"name": new})
        return node

    return _map(rule, change)


def _map(rule: ast.Rule, change: Callable[[ast.Rule], ast.Rule]) -> ast.Rule:
    if isinstance(rule, ast.And | ast.Or):
        items = [_map(item, change) for item in rule.items]
        return change(rule.model_copy(update={"items": items}))
    if isinstance(rule, ast.Not):
        return change(rule.model_copy(update={"item": _map(rule.item, change)}))
    if isinstance(rule, ast.AnyChild):
        return change(rule.model_copy(update={"rule": _map(rule.rule, change)}))
    return change(rule)
