"""Rule values converted to what a field holds, or a clear error pointing at the value."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bookwise.errors import InvalidRule
from bookwise.rules import ast
from bookwise.rules.printer import print_value
from bookwise.rules.registry import FieldSpec, suggest

# A number written as text may use ',' only between thousands ("1,797.19", never "1797,19").
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def shown(value: ast.Value) -> str:
    """A value as rule text, for messages."""
    return print_value(value)


def as_decimal(value: ast.Value, spec: FieldSpec) -> Decimal:
    """A number (or a numeric text) as an exact Decimal, or a rule error at the value."""
    if isinstance(value, ast.NumberValue):
        return value.value
    hint = ""
    if isinstance(value, ast.StringValue):
        text = value.value.strip()
        if "," in text and not THOUSANDS.match(text):
            hint = "; use '.' for decimals and ',' only between thousands (1,797.19)"
        else:
            try:
                number = Decimal(text.replace(",", ""))
                if number.is_finite():
                    return number
            except InvalidOperation:
                pass
    kind = "an amount of money" if spec.type == "money" else "a number"
    raise InvalidRule(f"{spec.name} is {kind}, not {shown(value)}{hint}", span=value.span)


def as_text(value: ast.Value, spec: FieldSpec) -> ast.StringValue:
    """A text value (a bare number for a text field becomes its text), or a rule error."""
    if isinstance(value, ast.StringValue):
        return value
    if isinstance(value, ast.NumberValue) and spec.type == "text":
        return ast.StringValue(value=value.text or shown(value), span=value.span)
    raise InvalidRule(
        f"{spec.name} is {spec.type}: expected text, not {shown(value)}", span=value.span
    )


def as_truth(spec: FieldSpec, value: ast.Value) -> bool:
    """A boolean value (``true``/``false``, also as text), or a rule error."""
    if spec.type == "level":
        return True
    if isinstance(value, ast.BooleanValue):
        return value.value
    if isinstance(value, ast.StringValue) and value.value.casefold() in ("true", "false"):
        return value.value.casefold() == "true"
    raise InvalidRule(f"{spec.name} is true or false, not {shown(value)}", span=value.span)


def as_level(value: ast.Value) -> int:
    """Custify's company level: 1 or 0, anything else a rule error pointing to depth."""
    if isinstance(value, ast.NumberValue) and value.value in (0, 1):
        return int(value.value)
    raise InvalidRule(
        f"company level is 1 (a parent company) or 0 (a child company), not {shown(value)}; "
        "for the position in the hierarchy use depth (0 at the top)",
        span=value.span,
    )


def as_choice(text: str, spec: FieldSpec, value: ast.Value) -> str:
    """The declared spelling of a choice, matched without regard to case, or an error."""
    for choice in spec.choices:
        if choice.casefold() == text.casefold():
            return choice
    listed = ", ".join(spec.choices)
    hint = suggest(text, list(spec.choices))
    raise InvalidRule(f"{spec.name} is one of {listed}, not {text!r}{hint}", span=value.span)
