"""Rule text → AST: every form of the language, and an InvalidRule with a caret for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from bookwise.errors import InvalidRule
from bookwise.rules import ast
from bookwise.rules.parser import MAX_NESTING, MAX_RULE_LENGTH, parse_rule

# --- the JSON form, spelled out -------------------------------------------------------------


def cond(field: str, op: str, value: Any = None) -> dict[str, Any]:
    """A condition as JSON."""
    return {"kind": "condition", "field": field, "op": op, "value": value}


def num(text: str) -> dict[str, Any]:
    """A number value as JSON (decimals travel as strings)."""
    return {"type": "number", "value": text}


def txt(value: str) -> dict[str, Any]:
    """A text value as JSON."""
    return {"type": "string", "value": value}


def boolean(value: bool) -> dict[str, Any]:
    """A true/false value as JSON."""
    return {"type": "boolean", "value": value}


def day(iso: str) -> dict[str, Any]:
    """A calendar date as JSON."""
    return {"type": "date", "value": iso}


def relative(offset: int, unit: str = "days") -> dict[str, Any]:
    """``today ± N unit`` as JSON."""
    return {"type": "relative_date", "offset": offset, "unit": unit}


def all_of(*items: dict[str, Any]) -> dict[str, Any]:
    """An ``and`` node as JSON."""
    return {"kind": "and", "items": list(items)}


def any_of(*items: dict[str, Any]) -> dict[str, Any]:
    """An ``or`` node as JSON."""
    return {"kind": "or", "items": list(items)}


def negated(item: dict[str, Any]) -> dict[str, Any]:
    """A ``not`` node as JSON."""
    return {"kind": "not", "item": item}


def segment(name: str, relation: str = "self") -> dict[str, Any]:
    """A segment reference as JSON."""
    return {"kind": "segment", "relation": relation, "name": name}


def parsed(text: str) -> dict[str, Any]:
    """The JSON form of the parsed text."""
    return ast.rule_to_json(parse_rule(text))


def refusal(text: str) -> InvalidRule:
    """The InvalidRule that parsing ``text`` raises."""
    with pytest.raises(InvalidRule) as caught:
        parse_rule(text)
    return caught.value


IS_PARENT = cond("is_parent", "=", boolean(True))

# --- the examples a CSM team writes ---------------------------------------------------------

EXAMPLES = [
    (
        "tier = 1 and health_score < 50",
        all_of(cond("tier", "=", num("1")), cond("health_score", "<", num("50"))),
    ),
    (
        'lifecycle_stage = "onboarding" and mrr > 5000',
        all_of(cond("lifecycle_stage", "=", txt("onboarding")), cond("mrr", ">", num("5000"))),
    ),
    ("csm is empty", cond("csm", "is empty")),
    (
        'csm = "michael@example.com" and is_parent',
        all_of(cond("csm", "=", txt("michael@example.com")), IS_PARENT),
    ),
    (
        'is_child and parent in segment "Michael\'s parent companies"',
        all_of(
            cond("is_child", "=", boolean(True)),
            segment("Michael's parent companies", "parent"),
        ),
    ),
    # Custify's wording: 1 = parent, 0 = child.
    ("company level is 1", cond("company_level", "=", num("1"))),
    (
        'not (region in ("EMEA", "APAC")) or renewal_date < today + 60 days',
        any_of(
            negated(cond("region", "in", [txt("EMEA"), txt("APAC")])),
            cond("renewal_date", "<", relative(60)),
        ),
    ),
    (
        'custom.industry = "Fintech" and name contains "bank"',
        all_of(cond("custom.industry", "=", txt("Fintech")), cond("name", "contains", txt("bank"))),
    ),
    (
        "account_manager is empty and tier in (1, 2)",
        all_of(cond("account_manager", "is empty"), cond("tier", "in", [num("1"), num("2")])),
    ),
    (
        'ancestor in segment "Strategic" and health_score between 40 and 60',
        all_of(
            segment("Strategic", "ancestor"),
            cond("health_score", "between", [num("40"), num("60")]),
        ),
    ),
    # Custify's text as pasted, with curly quotes.
    (
        "company level is 0 and parent company is in segment “michael’s parent companies”",
        all_of(
            cond("company_level", "=", num("0")),
            segment("michael’s parent companies", "parent"),
        ),
    ),
    # A bare word is a text value.
    ("csm is michael", cond("csm", "=", txt("michael"))),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[text for text, _ in EXAMPLES])
def test_parses_the_examples_exactly_as_written(text: str, expected: dict[str, Any]) -> None:
    assert parsed(text) == expected


# --- precedence and grouping ----------------------------------------------------------------


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    a, b, c = (cond(name, "=", num("1")) for name in "abc")
    assert parsed("a = 1 or b = 1 and not c = 1") == any_of(a, all_of(b, negated(c)))
    assert parsed("not a = 1 and b = 1") == all_of(negated(a), b)
    assert parsed("not a = 1 or b = 1 and c = 1") == any_of(negated(a), all_of(b, c))


def test_parentheses_group_and_keep_the_tree_shape() -> None:
    a, b, c = (cond(name, "=", num("1")) for name in "abc")
    assert parsed("(a = 1 or b = 1) and c = 1") == all_of(any_of(a, b), c)
    assert parsed("not (a = 1 and b = 1)") == negated(all_of(a, b))
    assert parsed("(a = 1 and b = 1) and c = 1") == all_of(all_of(a, b), c)
    assert parsed("((a = 1))") == a


def test_chains_of_and_and_or_are_flat() -> None:
    items = [cond(name, "=", num("1")) for name in "abcd"]
    assert parsed("a = 1 and b = 1 and c = 1 and d = 1") == all_of(*items)
    assert parsed("a = 1 or b = 1 or c = 1 or d = 1") == any_of(*items)


def test_not_not_is_kept() -> None:
    assert parsed("not not is_parent") == negated(negated(IS_PARENT))


# --- operators and their synonyms -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("tier = 1", "="),
        ("tier == 1", "="),
        ("tier is 1", "="),
        ("tier != 1", "!="),
        ("tier <> 1", "!="),
        ("tier is not 1", "!="),
        ("tier < 1", "<"),
        ("tier <= 1", "<="),
        ("tier > 1", ">"),
        ("tier >= 1", ">="),
        ("tier>=1", ">="),
    ],
)
def test_comparison_operators_and_synonyms(text: str, op: str) -> None:
    assert parsed(text) == cond("tier", op, num("1"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("csm is empty", cond("csm", "is empty")),
        ("csm is not empty", cond("csm", "is not empty")),
        ("tier in (1)", cond("tier", "in", [num("1")])),
        ("tier not in (1, 2,)", cond("tier", "not in", [num("1"), num("2")])),
        ("tier between 1 and 3", cond("tier", "between", [num("1"), num("3")])),
        ('name contains "bank"', cond("name", "contains", txt("bank"))),
        ('name starts with "Acme"', cond("name", "starts with", txt("Acme"))),
        ('name STARTS   With "Acme"', cond("name", "starts with", txt("Acme"))),
        ("is_parent = false", cond("is_parent", "=", boolean(False))),
        ("is_parent is true", cond("is_parent", "=", boolean(True))),
    ],
)
def test_the_other_operators(text: str, expected: dict[str, Any]) -> None:
    assert parsed(text) == expected


def test_keywords_are_case_insensitive_and_standard_fields_too() -> None:
    lower = parsed('tier = 1 and not csm is empty or region in ("EMEA") and is_parent')
    upper = parsed('TIER = 1 AND NOT CSM IS EMPTY OR Region IN ("EMEA") And IS_PARENT')
    assert upper == lower
    assert parsed("Company   LEVEL is 1") == cond("company_level", "=", num("1"))
    tier_is_1 = cond("tier", "=", num("1"))
    assert parsed("ANY CHILD (Tier = 1)") == {"kind": "any_child", "rule": tier_is_1}


def test_a_custom_attribute_keeps_its_case_and_only_the_prefix_folds() -> None:
    assert parsed('CUSTOM.Industry = "x"') == cond("custom.Industry", "=", txt("x"))


def test_a_custom_attribute_may_be_named_like_a_keyword() -> None:
    assert parsed("custom.and = 1") == cond("custom.and", "=", num("1"))
    assert parsed("custom.parent = 1") == cond("custom.parent", "=", num("1"))


def test_a_custom_attribute_name_may_hold_combining_marks() -> None:
    # Attribute names are Python identifiers: Devanagari vowel signs and a decomposed é count.
    for name in ["नाम", "cafe\u0301", "a\u00b7b"]:
        assert name.isidentifier()
        assert parsed(f"custom.{name} = 1") == cond(f"custom.{name}", "=", num("1"))


# --- fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("parent.tier = 1", "parent.tier"),
        ("parent.parent.tier = 1", "parent.parent.tier"),
        ("Parent . tier = 1", "parent.tier"),
        ("parent.custom.size = 1", "parent.custom.size"),
        # The field's name inside "parent" once lost the prefix.
        ("parent.t = 1", "parent.t"),
        ("parent.par = 1", "parent.par"),
        ("parent.parent.ent = 1", "parent.parent.ent"),
        ("parent # the parent's\n . tier = 1", "parent.tier"),
        ("parent_id = 1", "parent_id"),
        ("csm count = 1", "csm_count"),
        ("csm_count = 1", "csm_count"),
        ("company level = 1", "company_level"),
    ],
)
def test_field_paths(text: str, field: str) -> None:
    assert parsed(text) == cond(field, "=", num("1"))


def test_a_bare_field_means_true() -> None:
    assert parsed("is_parent") == IS_PARENT
    assert parsed("parent.is_child") == cond("parent.is_child", "=", boolean(True))


def test_any_child_wraps_a_whole_rule() -> None:
    assert parsed("any child (tier = 1 and not is_parent)") == {
        "kind": "any_child",
        "rule": all_of(cond("tier", "=", num("1")), negated(IS_PARENT)),
    }
    assert parsed("anY   chILD(is_parent)") == {"kind": "any_child", "rule": IS_PARENT}


def test_csm_count_compares_a_number() -> None:
    assert parsed("csm count > 1") == cond("csm_count", ">", num("1"))
    assert parsed("csm count between 1 and 3") == cond("csm_count", "between", [num("1"), num("3")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('in segment "A"', segment("A")),
        ('is in segment "A"', segment("A")),
        ('parent in segment "A"', segment("A", "parent")),
        ('parent company in segment "A"', segment("A", "parent")),
        ('parent company is in segment "A"', segment("A", "parent")),
        ('ancestor in segment "A"', segment("A", "ancestor")),
        ('not in segment "A"', negated(segment("A"))),
        ("in segment Strategic", segment("Strategic")),
    ],
)
def test_segment_references(text: str, expected: dict[str, Any]) -> None:
    assert parsed(text) == expected


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x = today", relative(0)),
        ("x = TODAY", relative(0)),
        ("x = today + 60 days", relative(60)),
        ("x = today - 3 months", relative(-3, "months")),
        ("x = today - 1 month", relative(-1, "months")),
        ("x = today + 1 day", relative(1)),
        ("x = today+7days", relative(7)),
        ("x = 2026-03-31", day("2026-03-31")),
        ("x = 2024-02-29", day("2024-02-29")),
        ("x = -5", num("-5")),
        ("x = -5.25", num("-5.25")),
        ("x = +3", num("3")),
        ("x = .5", num("0.5")),
        ("x = 1.50", num("1.50")),
        ("x = 007", num("7")),
        ("x = 1.", num("1")),
        ("x = true", boolean(True)),
        ("x = FALSE", boolean(False)),
        ('x = "with \\"quotes\\" and \\\\"', txt('with "quotes" and \\')),
        ("x = 'single \\' quoted'", txt("single ' quoted")),
        ('x = ""', txt("")),
        ("x = “curly”", txt("curly")),
        ("x = ‘curly’", txt("curly")),
        ("x = «guillemets»", txt("guillemets")),
        ('x = "# not a comment"', txt("# not a comment")),
        ('x = "two\nlines"', txt("two\nlines")),
        ('x = "ünïcødé ✓"', txt("ünïcødé ✓")),
        ("x = first.last+tag@example.co.uk", txt("first.last+tag@example.co.uk")),
        ("x = o'brien@example.com", txt("o'brien@example.com")),
        ("x = empty_word", txt("empty_word")),
        ("x = Michael", txt("Michael")),
    ],
)
def test_values(text: str, value: dict[str, Any]) -> None:
    assert parsed(text) == cond("x", "=", value)


def test_a_number_keeps_its_exact_decimal_value() -> None:
    rule = parse_rule("mrr > 1797.19")
    assert isinstance(rule, ast.Condition)
    assert isinstance(rule.value, ast.NumberValue)
    assert str(rule.value.value) == "1797.19"


def test_comments_are_ignored() -> None:
    text = "# Michael's book\ntier = 1 # the top tier\n  and mrr > 5000 # big ones\n# end"
    assert parsed(text) == all_of(cond("tier", "=", num("1")), cond("mrr", ">", num("5000")))


def test_spans_point_into_the_text() -> None:
    text = "tier = 1 and name contains 'x'"
    rule = parse_rule(text)
    assert isinstance(rule, ast.And)
    first, second = rule.items
    assert isinstance(first, ast.Condition)
    assert isinstance(second, ast.Condition)
    assert rule.span == (0, len(text))
    assert first.span == (0, 8)
    assert first.field_span == (0, 4)
    assert isinstance(first.value, ast.NumberValue)
    assert first.value.span == (7, 8)
    assert second.field_span == (13, 17)
    assert isinstance(second.value, ast.StringValue)
    assert text[slice(*second.value.span)] == "'x'"


def test_spans_never_reach_the_json_form() -> None:
    assert "span" not in str(parsed("tier = 1 and any child (name = x)"))


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "reason"),
    [
        ("tier >", (6, 6), "the rule ends too early"),
        ("tier = = 1", (7, 8), "unexpected '='"),
        ('name = "abc', (7, 8), "a quoted text is not closed"),
        ("name = 'abc", (7, 8), "a quoted text is not closed"),
        ("name = “abc", (7, 8), "a quoted text is not closed"),
        ("(tier = 1", (9, 9), "the rule ends too early; expected )"),
        ("tier = 1)", (8, 9), "unexpected ')'"),
        ("tier = 1 and", (12, 12), "the rule ends too early"),
        ("tier = 1 tier = 2", (9, 13), "unexpected 'tier'"),
        ("tier in ()", (9, 10), "unexpected ')'"),
        ("tier in 1", (8, 9), "unexpected '1'; expected ("),
        ("tier between 1", (14, 14), "expected and"),
        ("any child tier = 1", (10, 14), "expected ("),
        ("()", (1, 2), "unexpected ')'"),
        ("tier = 1 and ?", (13, 14), "unexpected character '?'"),
        ("€", (0, 1), "unexpected character '€'"),
        ("x = today + 5 weeks", (14, 19), "expected days or months"),
        ("x = today + 100001 days", (12, 18), "too far away"),
        ("x = 2026-02-30", (4, 14), "2026-02-30 is not a calendar date"),
        ("in segment 5", (11, 12), "a segment is named by its name in quotes"),
        ('in segment ""', (11, 13), "the segment name is not valid"),
        ("", (0, 0), "the rule is empty"),
        ("   \n ", (0, 5), "the rule is empty"),
        ("# only a comment\n# and another", (0, 30), "the rule is empty"),
    ],
)
def test_syntax_errors_point_at_the_offending_token(
    text: str, span: tuple[int, int], reason: str
) -> None:
    error = refusal(text)
    assert error.span == span
    assert reason in error.reason
    assert error.text == text
    assert error.details["position"] == span[0]


def test_the_caret_sits_under_the_offending_token() -> None:
    error = refusal("tier = = 1")
    assert error.caret() == "  tier = = 1\n         ^"
    assert str(error).startswith("invalid rule: unexpected '='")
    assert "(column 8)" in str(error)
    assert str(error).endswith(error.caret())


def test_the_caret_of_a_rule_that_ends_too_early_sits_after_it() -> None:
    assert refusal("tier >").caret() == "  tier >\n        ^"


def test_the_caret_shows_only_the_line_with_the_error() -> None:
    error = refusal("tier = 1\n  and mrr > > 5")
    assert "(line 2, column 13)" in str(error)
    assert error.caret() == "    and mrr > > 5\n              ^"


def test_the_caret_underlines_a_whole_token() -> None:
    assert refusal("tier = 1 tier = 2").caret().endswith("\n           ^^^^")


def test_expected_words_are_the_ones_a_person_types() -> None:
    reason = refusal("tier = 1 and").reason
    assert "any child" in reason
    assert "company level" in reason
    assert "_" not in reason


def test_a_number_with_too_many_digits_is_refused_at_the_number() -> None:
    text = "mrr > " + "9" * 31
    error = refusal(text)
    assert error.span == (6, len(text))
    assert "the number is not valid" in error.reason


def test_a_text_too_long_is_refused_at_the_text() -> None:
    text = 'name = "' + "a" * 1001 + '"'
    error = refusal(text)
    assert error.span == (7, len(text))
    assert "1000 characters" in error.reason


def test_a_field_name_too_long_is_refused_at_the_field() -> None:
    error = refusal("custom." + "a" * 200 + " = 1")
    assert error.span == (0, 207)
    assert "the field name is not valid" in error.reason


def test_a_huge_offset_is_too_far_away_not_a_crash() -> None:
    # Python refuses int() of more than 4,300 digits; the parser must check first.
    error = refusal("x = today + " + "9" * 5000 + " days")
    assert "too far away" in error.reason
    assert error.span == (12, 5012)


def test_a_rule_longer_than_the_limit_is_refused_before_parsing() -> None:
    error = refusal("tier = 1 or " * (MAX_RULE_LENGTH // 12) + "tier = 2" * 2)
    assert f"the limit is {MAX_RULE_LENGTH:,}" in error.reason
    # No caret: printing ten thousand characters back would not help anyone.
    assert error.span is None
    assert error.caret() == ""


def test_a_rule_at_the_length_limit_parses() -> None:
    text = "tier = 1" + " " * (MAX_RULE_LENGTH - 8)
    assert parsed(text) == cond("tier", "=", num("1"))


def test_parentheses_nested_too_deep_are_a_clear_error() -> None:
    text = "(" * (MAX_NESTING + 1) + "tier = 1" + ")" * (MAX_NESTING + 1)
    error = refusal(text)
    assert error.reason == f"parentheses nest more than {MAX_NESTING} deep"
    assert error.span == (MAX_NESTING, MAX_NESTING + 1)


def test_parentheses_nested_to_the_limit_parse() -> None:
    text = "(" * MAX_NESTING + "tier = 1" + ")" * MAX_NESTING
    assert parsed(text) == cond("tier", "=", num("1"))


def test_deep_any_child_and_not_nesting_is_a_clear_error() -> None:
    deep = "any child (" * 500 + "is_parent" + ")" * 500
    assert "nest more than" in refusal(deep).reason
    chain = "not " * (MAX_NESTING + 1) + "is_parent"
    error = refusal(chain)
    assert "nest more than" in error.reason
    assert error.span == (4 * MAX_NESTING, 4 * MAX_NESTING + 3)
    alternating = "not (" * 60 + "is_parent" + ")" * 60
    assert "nest more than" in refusal(alternating).reason


def test_nesting_at_the_limit_survives_every_later_step() -> None:
    data = parsed("not (any child (" * 33 + "is_parent" + "))" * 33)
    assert ast.rule_to_json(ast.rule_from_json(data)) == data


def test_many_nots_side_by_side_are_not_nesting() -> None:
    text = " and ".join(["not is_parent"] * (MAX_NESTING * 3))
    rule = parse_rule(text)
    assert isinstance(rule, ast.And)
    assert len(rule.items) == MAX_NESTING * 3


def test_parentheses_and_nots_inside_texts_and_comments_do_not_count() -> None:
    text = 'name = "' + "(" * 150 + " not" * 150 + '" # ' + "(" * 300
    assert parsed(text) == cond("name", "=", txt("(" * 150 + " not" * 150))


def test_the_error_can_be_shown_without_the_text() -> None:
    # Errors raised inside the transformer get the text attached once, on the way out.
    error = refusal("x = 2026-13-01")
    assert error.text == "x = 2026-13-01"
    assert error.caret() == "  x = 2026-13-01\n      ^^^^^^^^^^"
