"""Rule text → typed AST, with Lark (LALR); every failure is an InvalidRule with a caret."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any, TypeVar

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.tree import Meta
from pydantic import BaseModel, ValidationError

from bookwise.errors import InvalidRule
from bookwise.rules import ast

MAX_RULE_LENGTH = 10_000
MAX_NESTING = 100

# What a person calls the terminals Lark says it expected.
_EXPECTED_WORDS = {
    "_OR": "or",
    "_AND": "and",
    "_NOT": "not",
    "_IN": "in",
    "_IS": "is",
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "DOT": ".",
    "COMPARE": "an operator (=, !=, <, <=, >, >=)",
    "BETWEEN": "between",
    "CONTAINS": "contains",
    "STARTS_WITH": "starts with",
    "EMPTY": "empty",
    "SEGMENT": "segment",
    "STRING": "a quoted text",
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "TODAY": "today",
    "NAME": "a name",
    "EMAIL": "an email",
    "SIGN": "+ or -",
    "INT": "a whole number",
    "UNIT": "days or months",
    "ANY_CHILD": "any child",
    "COMPANY_LEVEL": "company level",
    "CSM_COUNT": "csm count",
    "ANCESTOR": "ancestor",
    "COMPANY": "company",
    "_PARENT": "parent",
    "TRUE": "true",
    "FALSE": "false",
    "$END": "the end of the rule",
}
_NAME = r"NAME: /(?!\d)\w+/"
# Unicode planes that hold identifier characters; scanning only these keeps start-up quick.
_IDENTIFIER_PLANES = (range(0x80, 0x40000), range(0xE0000, 0xE1000))


@cache
def _parser() -> Lark:
    grammar = files("bookwise.rules").joinpath("grammar.lark").read_text(encoding="utf-8")
    assert _NAME in grammar, "grammar.lark no longer defines NAME as the parser expects"
    grammar = grammar.replace(_NAME, _NAME.replace("\\w+", f"[\\w{_identifier_marks()}]+"))
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _identifier_marks() -> str:
    """A regex class body: what may continue a Python identifier but ``\\w`` does not match.

    Custom attribute names are Python identifiers, and those may hold combining marks
    (Devanagari vowel signs, a decomposed ``é``) that ``\\w`` leaves out.
    """
    word = re.compile(r"\w")
    codes = [
        code
        for plane in _IDENTIFIER_PLANES
        for code in plane
        if f"a{chr(code)}".isidentifier() and not word.match(chr(code))
    ]
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(
        _escape(first) if first == last else f"{_escape(first)}-{_escape(last)}"
        for first, last in ranges
    )


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def parse_rule(text: str) -> ast.Rule:
    """Parse rule text into the AST; any problem is an InvalidRule that points at it."""
    if len(text) > MAX_RULE_LENGTH:
        raise InvalidRule(
            f"the rule is {len(text):,} characters long; the limit is {MAX_RULE_LENGTH:,}",
            text=text,
        )
    if not text.strip():
        raise InvalidRule("the rule is empty", text=text, span=(0, len(text)))
    return _parsed(text)


@lru_cache(maxsize=512)
def _parsed(text: str) -> ast.Rule:
    # The AST is immutable (frozen models), so a rule read once is not read again: pages ask
    # for the same few rules over and over. Errors are raised, never cached.
    try:
        tree = _parse_tree(text)
        rule = _ToAst().transform(tree)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except InvalidRule as exc:
        raise exc.with_text(text) from None
    except (LarkError, ValidationError, RecursionError) as exc:
        cause = exc.orig_exc if hasattr(exc, "orig_exc") else exc
        if isinstance(cause, InvalidRule):
            raise cause.with_text(text) from None
        raise InvalidRule(f"the rule cannot be read: {_first_line(cause)}", text=text) from None
    assert not isinstance(rule, list)
    return rule  # type: ignore[no-any-return]


def _parse_tree(text: str) -> Tree[Token]:
    """Lark's tree of ``text``, refusing a rule too deep for the recursive steps after it."""
    interactive = _parser().parse_interactive(text)
    nesting = _Nesting()
    last: Token | None = None
    for token in interactive.iter_parse():
        nesting.see(token)
        last = token
    if last is None:
        raise InvalidRule("the rule is empty (it holds only comments)", span=(0, len(text)))
    tree: Tree[Token] = interactive.feed_eof(last)  # type: ignore[no-untyped-call]
    return tree


class _Nesting:
    """How deep the tokens seen so far nest: each ``(`` and each ``not`` opens a level.

    Counted on the tokens the parser reads, so parentheses and ``not`` inside quoted texts and
    comments do not count; a chain ``not not … x`` nests as deep as it is long.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.nots = 0
        self.outer: list[int] = []

    def see(self, token: Token) -> None:
        if token.type == "_NOT":
            self.nots += 1
            if self.depth + self.nots > MAX_NESTING:
                raise InvalidRule(
                    f"'not' and parentheses nest more than {MAX_NESTING} deep",
                    span=_token_span(token),
                )
            return
        if token.type == "LPAR":
            self.outer.append(self.depth)
            self.depth += self.nots + 1
            if self.depth > MAX_NESTING:
                raise InvalidRule(
                    f"parentheses nest more than {MAX_NESTING} deep", span=_token_span(token)
                )
        elif token.type == "RPAR":
            self.depth = self.outer.pop() if self.outer else 0
        self.nots = 0


def _syntax_error(text: str, exc: UnexpectedInput) -> InvalidRule:
    position = min(getattr(exc, "pos_in_stream", None) or 0, len(text))
    if isinstance(exc, UnexpectedEOF) or position >= len(text):
        expected = _expected(exc)
        return InvalidRule(
            f"the rule ends too early{expected}", text=text, span=(len(text), len(text))
        )
    if isinstance(exc, UnexpectedCharacters):
        found = text[position]
        message = f"unexpected character {found!r}{_expected(exc)}"
        if found in "\"'“‘«":
            message = "a quoted text is not closed"
        return InvalidRule(message, text=text, span=(position, position + 1))
    token = getattr(exc, "token", None)
    if isinstance(token, Token) and token.type != "$END":
        end = token.end_pos if token.end_pos is not None else position + len(token)
        return InvalidRule(
            f"unexpected {str(token)!r}{_expected(exc)}", text=text, span=(position, end)
        )
    return InvalidRule(f"the rule ends too early{_expected(exc)}", text=text, span=(len(text),) * 2)


def _expected(exc: UnexpectedInput) -> str:
    names = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    words = sorted({_EXPECTED_WORDS.get(name, name.lower().strip("_")) for name in names})
    if not words:
        return ""
    if len(words) > 6:
        words = [*words[:6], "…"]
    return "; expected " + ", ".join(words)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _span(meta: Meta) -> ast.Span | None:
    if getattr(meta, "empty", True):
        return None
    return (meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> ast.Span:
    start = token.start_pos or 0
    return (start, token.end_pos if token.end_pos is not None else start + len(token))


def _unquote(raw: str) -> str:
    opening = raw[0]
    body = raw[1:-1]
    if opening in "\"'":
        return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)
    return body


_PARENT_STEP = object()
_Node = TypeVar("_Node", bound=BaseModel)


def _build(model: type[_Node], what: str, at: ast.Span | None, **fields: Any) -> _Node:
    """``model(**fields)``; a value out of bounds is an InvalidRule pointing at ``at``."""
    try:
        return model(**fields)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        reason = f"{what} is not valid: {message[:1].lower()}{message[1:]}"
        raise InvalidRule(reason, span=at) from None


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """Builds AST nodes from Lark's tree, keeping each node's span in the text."""

    def start(self, meta: Meta, children: list[Any]) -> ast.Rule:
        return children[0]  # type: ignore[no-any-return]

    def or_expr(self, meta: Meta, children: list[Any]) -> ast.Or:
        return ast.Or(items=children, span=_span(meta))

    def and_expr(self, meta: Meta, children: list[Any]) -> ast.And:
        return ast.And(items=children, span=_span(meta))

    def negation(self, meta: Meta, children: list[Any]) -> ast.Not:
        return ast.Not(item=children[0], span=_span(meta))

    def any_child(self, meta: Meta, children: list[Any]) -> ast.AnyChild:
        return ast.AnyChild(rule=children[-1], span=_span(meta))

    def segment_ref(self, meta: Meta, children: list[Any]) -> ast.SegmentRef:
        relation = "self"
        if children and isinstance(children[0], str) and children[0] in ("parent", "ancestor"):
            relation = children[0]
        value = children[-1]
        if not isinstance(value, ast.StringValue):
            raise InvalidRule("a segment is named by its name in quotes", span=value.span)
        return _build(
            ast.SegmentRef,
            "the segment name",
            value.span,
            relation=relation,
            name=value.value,
            span=_span(meta),
        )

    def parent_relation(self, meta: Meta, children: list[Any]) -> str:
        return "parent"

    def ancestor_relation(self, meta: Meta, children: list[Any]) -> str:
        return "ancestor"

    def condition(self, meta: Meta, children: list[Any]) -> ast.Condition:
        field, field_span = children[0]
        if len(children) == 1:
            # A bare field is a boolean test: ``is_parent`` means ``is_parent = true``.
            return _build(
                ast.Condition,
                "the field name",
                field_span,
                field=field,
                op="=",
                value=ast.BooleanValue(value=True),
                span=field_span,
                field_span=field_span,
            )
        op, value = children[1]
        return _build(
            ast.Condition,
            "the field name",
            field_span,
            field=field,
            op=op,
            value=value,
            span=_span(meta),
            field_span=field_span,
        )

    def company_level(self, meta: Meta, children: list[Any]) -> tuple[str, ast.Span | None]:
        return "company_level", _span(meta)

    def csm_count(self, meta: Meta, children: list[Any]) -> tuple[str, ast.Span | None]:
        return "csm_count", _span(meta)

    def field(self, meta: Meta, children: list[Any]) -> tuple[str, ast.Span | None]:
        return children[0]  # type: ignore[no-any-return]

    def path(self, meta: Meta, children: list[Any]) -> tuple[str, ast.Span | None]:
        parents = ["parent" for child in children if child is _PARENT_STEP]
        head, *rest = [str(child) for child in children if child is not _PARENT_STEP]
        if head.lower() == "custom" and rest:
            # A custom attribute's name is case-sensitive; only the prefix is a keyword.
            head = "custom"
        else:
            # Standard fields and role names are lower case, so TIER means tier.
            head, rest = head.lower(), [name.lower() for name in rest]
        return ".".join([*parents, head, *rest]), _span(meta)

    def parent_step(self, meta: Meta, children: list[Any]) -> object:
        return _PARENT_STEP

    def compare(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        op = str(children[0])
        return {"<>": "!=", "==": "="}.get(op, op), children[1]

    def is_value(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "=", children[0]

    def is_not_value(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "!=", children[0]

    def is_empty(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "is empty", None

    def is_not_empty(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "is not empty", None

    def in_list(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "in", children[0]

    def not_in_list(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "not in", children[0]

    def between(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "between", [children[1], children[2]]

    def contains(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "contains", children[1]

    def starts_with(self, meta: Meta, children: list[Any]) -> tuple[str, Any]:
        return "starts with", children[1]

    def value_list(self, meta: Meta, children: list[Any]) -> list[Any]:
        return children

    def string(self, meta: Meta, children: list[Token]) -> ast.StringValue:
        token = children[0]
        return _build(
            ast.StringValue,
            "the text",
            _token_span(token),
            value=_unquote(str(token)),
            span=_token_span(token),
        )

    def bare(self, meta: Meta, children: list[Token]) -> ast.StringValue:
        token = children[0]
        return _build(
            ast.StringValue,
            "the text",
            _token_span(token),
            value=str(token),
            span=_token_span(token),
        )

    def number(self, meta: Meta, children: list[Token]) -> ast.NumberValue:
        token = children[0]
        try:
            value = Decimal(str(token))
        except InvalidOperation:
            raise InvalidRule(f"{token!s} is not a number", span=_token_span(token)) from None
        return _build(
            ast.NumberValue,
            "the number",
            _token_span(token),
            value=value,
            text=str(token),
            span=_token_span(token),
        )

    def date(self, meta: Meta, children: list[Token]) -> ast.DateValue:
        token = children[0]
        try:
            value = date.fromisoformat(str(token))
        except ValueError:
            raise InvalidRule(
                f"{token!s} is not a calendar date", span=_token_span(token)
            ) from None
        return ast.DateValue(value=value, span=_token_span(token))

    def relative_date(self, meta: Meta, children: list[Token]) -> ast.RelativeDate:
        if len(children) == 1:
            return ast.RelativeDate(span=_span(meta))
        _today, sign, amount, unit = children
        digits = str(amount).lstrip("0") or "0"
        # Length first: int() refuses more than 4,300 digits, and 7 are already too far.
        if len(digits) > 6 or int(digits) > 100_000:
            raise InvalidRule(f"{amount!s} {unit!s} is too far away", span=_token_span(amount))
        offset = int(digits) * (-1 if str(sign) == "-" else 1)
        plural = "months" if str(unit).lower().startswith("month") else "days"
        return ast.RelativeDate(offset=offset, unit=plural, span=_span(meta))

    def true(self, meta: Meta, children: list[Token]) -> ast.BooleanValue:
        return ast.BooleanValue(value=True, span=_token_span(children[0]))

    def false(self, meta: Meta, children: list[Token]) -> ast.BooleanValue:
        return ast.BooleanValue(value=False, span=_token_span(children[0]))
