"""Rules in English: what the CLI and the UI show next to a rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookwise.config import get_settings
from bookwise.rules import ast
from bookwise.rules.describe import describe_rule
from bookwise.rules.parser import parse_rule
from bookwise.rules.registry import AttributeInfo, Catalog
from tests.rules.test_printer import FIELDS, RULES, VALUES


def english(text: str, catalog: Catalog | None = None) -> str:
    """The English of the rule text."""
    return describe_rule(parse_rule(text), catalog)


def make_catalog() -> Catalog:
    """A catalog with a custom attribute of each interesting type and an extra role."""
    return Catalog(
        attributes={
            "industry": AttributeInfo(name="industry", type="text"),
            "deal_size": AttributeInfo(name="deal_size", type="money"),
            "vip": AttributeInfo(name="vip", type="boolean"),
            "signed_on": AttributeInfo(name="signed_on", type="date"),
        },
        roles=("csm", "account_manager"),
    )


EXAMPLES = [
    ("tier = 1 and health_score < 50", "Tier is 1 and health score is below 50"),
    (
        'lifecycle_stage = "onboarding" and mrr > 5000',
        "Lifecycle stage is “onboarding” and MRR is above 5,000.00",
    ),
    ("csm is empty", "Has no CSM"),
    (
        'csm = "michael@example.com" and is_parent',
        "CSM is michael@example.com and is a parent company",
    ),
    (
        'is_child and parent in segment "Michael\'s parent companies"',
        "Is a child company and the parent is in segment “Michael's parent companies”",
    ),
    ("company level is 1", "Company level is 1 (a parent company)"),
    (
        'not (region in ("EMEA", "APAC")) or renewal_date < today + 60 days',
        "Not (region is one of “EMEA”, “APAC”) or renewal date is before 60 days from today",
    ),
    (
        'custom.industry = "Fintech" and name contains "bank"',
        "Industry is “Fintech” and name contains “bank”",
    ),
    (
        "account_manager is empty and tier in (1, 2)",
        "Account manager is empty and tier is one of 1, 2",
    ),
    (
        'ancestor in segment "Strategic" and health_score between 40 and 60',
        "An ancestor is in segment “Strategic” and health score is between 40 and 60",
    ),
    (
        "company level is 0 and parent company is in segment “michael’s parent companies”",
        "Company level is 0 (a child company) and the parent is in segment "
        "“michael’s parent companies”",
    ),
    ("csm is michael", "CSM is michael"),
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[text for text, _ in EXAMPLES])
def test_describes_the_examples(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mrr > 5000", "MRR is above 5,000.00"),
        ("mrr >= 1234567.5", "MRR is at least 1,234,567.50"),
        ("mrr < -5", "MRR is below -5.00"),
        ("mrr between 1000 and 2000", "MRR is between 1,000.00 and 2,000.00"),
        ("mrr in (100, 200)", "MRR is one of 100.00, 200.00"),
        # More decimals than the currency has: shown as typed (the compiler refuses it).
        ("mrr > 5.555", "MRR is above 5.555"),
        # Not money: no thousands separator, no decimals added.
        ("health_score > 5000", "Health score is above 5000"),
    ],
)
def test_money_has_thousands_and_the_currency_decimals(text: str, expected: str) -> None:
    assert english(text) == expected


def test_money_follows_the_installation_currency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKWISE_CURRENCY", "JPY")
    get_settings.cache_clear()
    try:
        assert english("mrr > 5000") == "MRR is above 5,000"
    finally:
        monkeypatch.delenv("BOOKWISE_CURRENCY")
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("renewal_date < today + 60 days", "Renewal date is before 60 days from today"),
        ("renewal_date > today - 30 days", "Renewal date is after 30 days ago"),
        ("renewal_date <= today + 1 day", "Renewal date is on or before 1 day from today"),
        ("renewal_date >= today - 1 month", "Renewal date is on or after 1 month ago"),
        ("renewal_date >= today - 3 months", "Renewal date is on or after 3 months ago"),
        ("renewal_date = today", "Renewal date is today"),
        ("renewal_date = 2026-03-31", "Renewal date is 2026-03-31"),
        ("created_at < 2025-01-01", "Creation date is before 2025-01-01"),
        (
            "renewal_date between today and today + 3 months",
            "Renewal date is between today and 3 months from today",
        ),
        ("renewal_date is empty", "Renewal date is empty"),
    ],
)
def test_dates_read_as_dates(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("is_parent", "Is a parent company"),
        ("is_parent = false", "Is not a parent company"),
        ("is_parent != true", "Is not a parent company"),
        ("not is_parent", "Is not a parent company"),
        ("not is_child = false", "Is a child company"),
        ("not not is_child", "Is a child company"),
        ("parent.is_parent", "The parent is a parent company"),
        ("parent.parent.is_child = false", "The parent's parent is not a child company"),
        ("company level = 0", "Company level is 0 (a child company)"),
        ("company level != 1", "Company level is not 1 (a parent company)"),
        ("parent.company_level = 1", "The parent's company level is 1 (a parent company)"),
        ("csm count > 1", "Number of CSMs is above 1"),
    ],
)
def test_the_hierarchy(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parent.tier = 1", "The parent's tier is 1"),
        ("parent.parent.mrr > 10", "The parent's parent's MRR is above 10.00"),
        ('parent.csm = "a@example.com"', "The parent's CSM is a@example.com"),
    ],
)
def test_parent_fields(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('in segment "Strategic"', "Is in segment “Strategic”"),
        ('not in segment "Strategic"', "Is not in segment “Strategic”"),
        ('parent in segment "Strategic"', "The parent is in segment “Strategic”"),
        ('not parent in segment "Strategic"', "The parent is not in segment “Strategic”"),
        ('ancestor in segment "Strategic"', "An ancestor is in segment “Strategic”"),
        ('not ancestor in segment "Strategic"', "No ancestor is in segment “Strategic”"),
    ],
)
def test_segments(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not (tier = 1)", "Not (tier is 1)"),
        ("not (tier = 1 and mrr > 5)", "Not (tier is 1 and MRR is above 5.00)"),
        ("tier = 1 or tier = 2 and mrr > 5", "Tier is 1 or (tier is 2 and MRR is above 5.00)"),
        (
            "(tier = 1 or tier = 2) and is_parent",
            "(tier is 1 or tier is 2) and is a parent company",
        ),
        (
            "tier = 1 and not not (tier = 2 or is_parent)",
            "Tier is 1 and (tier is 2 or is a parent company)",
        ),
        ("any child (tier = 1)", "Has a child where tier is 1"),
        ("any child (tier = 1 or tier = 2)", "Has a child where (tier is 1 or tier is 2)"),
        ("any child (not tier = 1)", "Has a child where (not (tier is 1))"),
        ("any child (is_parent)", "Has a child that is a parent company"),
        ("any child (csm is empty)", "Has a child that has no CSM"),
        ('any child (in segment "S")', "Has a child that is in segment “S”"),
    ],
)
def test_not_and_grouping(text: str, expected: str) -> None:
    assert english(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("csm is not empty", "Has a CSM"),
        ("csm != a@example.com", "CSM is not a@example.com"),
        ("csm in (a@example.com, b@example.com)", "CSM is a@example.com or b@example.com"),
        ("csm in (a, b, c)", "CSM is a, b or c"),
        ("csm not in (a, b)", "CSM is neither a nor b"),
        ("csm not in (a)", "CSM is not a"),
        ("account_manager is empty", "Has no account manager"),
        ("account_manager = 'Ann Lee'", "Account manager is Ann Lee"),
        ('custom.industry = "Fintech"', "Industry is “Fintech”"),
        ("custom.deal_size > 1000", "Deal size is above 1,000.00"),
        ("custom.vip", "Vip is true"),
        ("custom.vip = false", "Vip is false"),
        ("custom.vip != false", "Vip is true"),
        ("custom.signed_on > today - 1 month", "Signed on is after 1 month ago"),
        ('name starts with "Acme"', "Name starts with “Acme”"),
        ("tier not in (3, 4)", "Tier is none of 3, 4"),
        ("nps <= -10.5", "NPS is at most -10.5"),
        ("inherit_policy = own", "Inherit policy is “own”"),
    ],
)
def test_with_a_catalog(text: str, expected: str) -> None:
    assert english(text, make_catalog()) == expected


def test_without_a_catalog_unknown_fields_read_like_labels() -> None:
    assert english("custom.deal_size > 1000") == "Deal size is above 1000"
    assert english("account_manager is empty") == "Account manager is empty"


# --- any rule can be described --------------------------------------------------------------


@st.composite
def odd_conditions(draw: st.DrawFn) -> ast.Condition:
    """A condition with any operator and any number of values: valid JSON, maybe not a rule."""
    value: Any = draw(
        st.one_of(st.none(), VALUES, st.lists(VALUES, max_size=3)),
    )
    return ast.Condition(field=draw(FIELDS), op=draw(st.sampled_from(ast.OPERATORS)), value=value)


@settings(max_examples=200, deadline=None)
@given(st.one_of(RULES, odd_conditions(), st.builds(ast.Not, item=odd_conditions())))
def test_every_rule_has_an_english_sentence(rule: ast.Rule) -> None:
    for catalog in (None, make_catalog()):
        text = describe_rule(rule, catalog)
        assert text
        assert text[:1] == text[:1].upper()
