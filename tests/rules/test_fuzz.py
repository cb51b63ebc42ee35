"""Fuzzing: whatever the text, the parser returns a rule or raises InvalidRule, nothing else;
and whatever the shape of a rule, the database runs it or the budget refuses it first."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from bookwise.errors import InvalidRule, RuleTooBig
from bookwise.rules import ast
from bookwise.rules.parser import parse_rule
from bookwise.rules.printer import print_rule
from bookwise.segments.rules import check_rule
from bookwise.segments.service import create_segment
from tests.factories import actor, make_account
from tests.rules.test_printer import RULES

TOKENS = [
    # keywords, in several cases
    *["and", "or", "not", "in", "is", "AND", "Or", "NOT", "Is", "IN"],
    *["parent", "parent.", "company", "ancestor", "segment", "any child", "any", "child"],
    *["company level", "csm count", "between", "contains", "starts with", "empty"],
    *["today", "true", "false", "days", "day", "months", "month", "TODAY", "Empty"],
    # punctuation and operators
    *["(", ")", ",", ".", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "+", "-", "#", "!"],
    # values
    *["1", "-5", "+3", ".5", "1.50", "007", "1e5", "2026-03-31", "2026-02-30", "99999999999"],
    *['"text"', "'text'", "“curly”", "«g»", '"', "'", "“", '"a\\"', "michael@example.com"],
    # fields
    *["tier", "mrr", "name", "csm", "is_parent", "custom.x", "parent.tier", "custom.", "x."],
    # odd characters
    *["\n", "\t", "\x00", "€", "é", "\u0301", "नाम", "_", "@", "\\"],
]


def outcome(text: str) -> ast.Rule | InvalidRule:
    """The rule ``text`` parses to, or the InvalidRule it raises; any other exception fails."""
    try:
        return parse_rule(text)
    except InvalidRule as error:
        return error
    except Exception as exc:
        pytest.fail(f"parse_rule({text!r}) raised {type(exc).__name__}: {exc}")


def parses_or_refuses(text: str) -> None:
    """Parse ``text``; only a rule or an InvalidRule with a usable position may come out."""
    result = outcome(text)
    if isinstance(result, InvalidRule):
        assert result.reason
        assert result.text == text
        if result.span is not None:
            start, end = result.span
            assert 0 <= start <= end <= len(text), result.span
        assert str(result).startswith("invalid rule: ")
        result.caret()
        return
    # What parses also prints, and the printed text parses to the same rule.
    printed = print_rule(result)
    assert print_rule(parse_rule(printed)) == printed


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
@example("")
@example("\x00")
@example("(" * 150)
@example("not " * 150)
@example("tier = " + "9" * 50)
@example('in segment ""')
@example("x = today + " + "9" * 5000 + " days")
def test_any_text(text: str) -> None:
    parses_or_refuses(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_any_ascii_text_with_control_characters(text: str) -> None:
    parses_or_refuses(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_any_sequence_of_tokens(tokens: list[str]) -> None:
    parses_or_refuses(" ".join(tokens))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_any_sequence_of_tokens_glued_together(tokens: list[str]) -> None:
    parses_or_refuses("".join(tokens))


@settings(max_examples=300, deadline=None)
@given(RULES, st.data())
def test_valid_rules_with_one_character_changed(rule: ast.Rule, data: st.DataObject) -> None:
    text = print_rule(rule)
    position = data.draw(st.integers(0, len(text)))
    edit = data.draw(st.sampled_from(["delete", "insert", "replace"]))
    char = data.draw(st.sampled_from([*"()\"',.=<>!#\\ -+0a", "“", "\n"]))
    if edit == "delete":
        text = text[:position] + text[position + 1 :]
    elif edit == "insert":
        text = text[:position] + char + text[position:]
    else:
        text = text[:position] + char + text[position + 1 :]
    parses_or_refuses(text)


# --- rules of any shape run or are refused, on the database --------------------------------

LEAVES = [
    "tier = 1",
    "tier != 2",
    "csm is empty",
    "csm count != 1",
    "parent.tier = 1",
    "parent.csm is empty",
    'region in ("EMEA", "APAC")',
    "is_parent",
]


@st.composite
def shaped_rules(draw: st.DrawFn, depth: int = 0) -> str:
    """Rule text nesting any child, parent., not and and/or groups up to 12 levels deep."""
    if depth >= 12 or draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(LEAVES))
    kind = draw(st.sampled_from(["any child", "parent", "not", "and", "or"]))
    inner = draw(shaped_rules(depth + 1))
    if kind == "any child":
        return f"any child ({inner})"
    if kind == "not":
        return f"not ({inner})"
    if kind == "parent":
        return f'parent in segment "Top" or ({inner})'
    other = draw(shaped_rules(depth + 1))
    return f"({inner}) {kind} ({other})"


def test_rules_of_any_shape_run_or_are_refused_never_a_database_error(session: Session) -> None:
    # Before the budget, ten nested `any child (` were a 500 (SQLite: parser stack overflow).
    root = make_account(session, tier=1)
    make_account(session, tier=2, parent=make_account(session, tier=3, parent=root))
    create_segment(session, name="Top", rule="tier = 1", actor=actor(session))

    @settings(max_examples=150, deadline=None, database=None)
    @given(shaped_rules())
    @example(" and ".join(["any child (tier = 1"] * 10) + ")" * 10)
    @example("parent." * 12 + "tier = 1")
    def runs_or_refuses(text: str) -> None:
        try:
            check_rule(session, text)
        except RuleTooBig as refused:
            spans.append(refused.span)
            return
        spans.append("ran")

    spans: list[object] = []
    runs_or_refuses()
    assert "ran" in spans
    assert None not in spans  # every refusal points into the text
    assert len(set(spans)) > 1  # some were refused
