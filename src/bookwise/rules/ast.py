"""The typed rule AST: the JSON form the API and the rule builder exchange.

A rule is a tree of ``and`` / ``or`` / ``not`` nodes over leaves: a condition on a field, a
segment reference, or ``any child (<rule>)``. Every node and value carries a ``kind`` /
``type`` tag, so the JSON form validates as a discriminated union. Positions in the text a
rule was parsed from (``span``) travel with the nodes for error carets, but never into JSON.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Span = tuple[int, int]
"""Start and end offsets of a node in the rule text it was parsed from."""

Operator = Literal[
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "between",
    "contains",
    "starts with",
    "is empty",
    "is not empty",
]
OPERATORS: tuple[str, ...] = get_args(Operator)
DateUnit = Literal["days", "months"]
Relation = Literal["self", "parent", "ancestor"]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    span: Span | None = Field(default=None, exclude=True, repr=False)


class StringValue(_Node):
    """A text value, as typed (``"EMEA"``, ``michael@example.com``)."""

    type: Literal["string"] = "string"
    value: str = Field(max_length=1000)


class NumberValue(_Node):
    """A decimal number; for money fields it is in currency units (``5000`` is 5,000.00)."""

    type: Literal["number"] = "number"
    value: Decimal = Field(allow_inf_nan=False, max_digits=30)
    # The digits as typed ("007"), for a number compared with a text field; never in JSON.
    text: str | None = Field(default=None, exclude=True, repr=False)


class BooleanValue(_Node):
    """``true`` or ``false``."""

    type: Literal["boolean"] = "boolean"
    value: bool


class DateValue(_Node):
    """A calendar date (``2026-03-31``)."""

    type: Literal["date"] = "date"
    value: date


class RelativeDate(_Node):
    """``today``, ``today + 60 days``, ``today - 3 months`` (months clamp to the month's end)."""

    type: Literal["relative_date"] = "relative_date"
    offset: int = Field(default=0, ge=-100_000, le=100_000)
    unit: DateUnit = "days"


Value = Annotated[
    StringValue | NumberValue | BooleanValue | DateValue | RelativeDate,
    Field(discriminator="type"),
]


class Condition(_Node):
    """``<field> <operator> <value>``: one value, a list (``in``), two (``between``) or none."""

    kind: Literal["condition"] = "condition"
    field: str = Field(min_length=1, max_length=200)
    op: Operator
    value: Value | list[Value] | None = None
    field_span: Span | None = Field(default=None, exclude=True, repr=False)


class SegmentRef(_Node):
    """``in segment S``, ``parent in segment S`` or ``ancestor in segment S``."""

    kind: Literal["segment"] = "segment"
    relation: Relation = "self"
    name: str = Field(min_length=1, max_length=200)


class AnyChild(_Node):
    """``any child (<rule>)``: at least one direct child matches the inner rule."""

    kind: Literal["any_child"] = "any_child"
    rule: Rule


class And(_Node):
    """Every item matches."""

    kind: Literal["and"] = "and"
    items: list[Rule] = Field(min_length=2)


class Or(_Node):
    """At least one item matches."""

    kind: Literal["or"] = "or"
    items: list[Rule] = Field(min_length=2)


class Not(_Node):
    """The exact complement of the item: every account the item does not match."""

    kind: Literal["not"] = "not"
    item: Rule


Rule = Annotated[
    And | Or | Not | Condition | SegmentRef | AnyChild,
    Field(discriminator="kind"),
]

for _model in (AnyChild, And, Or, Not):
    _model.model_rebuild()

RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def rule_from_json(data: object) -> Rule:
    """Validate a JSON-shaped rule (a dict) into the AST; raises pydantic's ValidationError."""
    return RULE_ADAPTER.validate_python(data)


def rule_to_json(rule: Rule) -> dict[str, object]:
    """The JSON form of a rule (no positions)."""
    dumped = RULE_ADAPTER.dump_python(rule, mode="json")
    assert isinstance(dumped, dict)
    return dumped


def walk(rule: Rule) -> list[Rule]:
    """Every node of the rule, parents before children (segment bodies are not followed)."""
    found: list[Rule] = [rule]
    if isinstance(rule, And | Or):
        for item in rule.items:
            found.extend(walk(item))
    elif isinstance(rule, Not):
        found.extend(walk(rule.item))
    elif isinstance(rule, AnyChild):
        found.extend(walk(rule.rule))
    return found
