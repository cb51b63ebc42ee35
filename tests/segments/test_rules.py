"""Rules against the database: the catalog a rule needs, selections, and checks."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bookwise.accounts.service import declare_attribute
from bookwise.assignments.selection import AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.errors import InvalidRule
from bookwise.models import Account, User
from bookwise.rules import ast
from bookwise.rules.parser import parse_rule
from bookwise.rules.registry import SegmentInfo
from bookwise.segments.rules import (
    check_rule,
    compile_where,
    load_catalog,
    rule_selection,
    segment_selection,
)
from bookwise.segments.service import create_segment
from tests.factories import actor, make_account, make_user
from tests.helpers import count_statements


def refs(session: Session, selection: AccountQuery) -> set[str]:
    query = select(Account.external_id).where(Account.id.in_(selection.ids))
    return {ref or "" for ref in session.scalars(query)}


def owned_world(session: Session) -> tuple[User, User]:
    """J owned by Jürgen Strauß, K by "Kim  Park" (two spaces), N by no-one."""
    jurgen = make_user(session, "j@example.com", name="Jürgen Strauß")
    kim = make_user(session, "k@example.com", name="Kim  Park")
    for ref, csm in (("J", jurgen), ("K", kim)):
        make_account(session, external_id=ref)
        assign_accounts(session, selection=AccountRefs([ref]), csms=[csm], actor=actor(session))
    make_account(session, external_id="N")
    return jurgen, kim


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('csm = "Jürgen Strauß"', {"J"}),
        ('csm = "JÜRGEN STRAUSS"', {"J"}),  # casefold: ß is ss (SQL lower() keeps ß)
        ('csm = "Kim  Park"', {"K"}),
        ('csm = "kim park"', {"K"}),
        ('csm = "j@example.com" or csm = "Jürgen Strauß"', {"J"}),
        ('csm in ("K@EXAMPLE.COM", "kim park", "Jürgen Strauß")', {"J", "K"}),
    ],
)
def test_users_are_found_by_email_or_by_full_name_as_user_keys_fold_them(
    session: Session, rule: str, expected: set[str]
) -> None:
    owned_world(session)
    assert refs(session, rule_selection(session, rule)) == expected


def test_an_ambiguous_full_name_lists_the_candidates(session: Session) -> None:
    make_user(session, "a@example.com", name="Sam Lee")
    make_user(session, "b@example.com", name="sam  LEE")
    with pytest.raises(InvalidRule, match=r"several users \(a@example.com, b@example.com\)"):
        check_rule(session, 'csm = "Sam Lee"')
    assert check_rule(session, 'csm = "a@example.com"').matches == 0


def test_check_rule_describes_and_counts(session: Session) -> None:
    make_account(session, external_id="T1", tier=1)
    make_account(session, external_id="T2", tier=2)
    checked = check_rule(session, "TIER = 1 OR tier = 3")
    assert checked.text == "tier = 1 or tier = 3"
    assert checked.matches == 1
    assert checked.rule["kind"] == "or"
    assert checked.english


def test_compile_where_takes_text_json_or_ast(session: Session) -> None:
    make_account(session, external_id="T1", tier=1)
    tree = parse_rule("tier = 1")
    for rule in ("tier = 1", ast.rule_to_json(tree), tree):
        compiled = compile_where(session, rule)
        assert compiled.text == "tier = 1"
        assert session.scalars(select(Account.external_id).where(compiled.where)).all() == ["T1"]


def test_compile_where_errors_carry_the_text(session: Session) -> None:
    with pytest.raises(InvalidRule) as caught:
        compile_where(session, "tier = 1 and helth < 3")
    assert caught.value.text == "tier = 1 and helth < 3"
    assert "unknown field 'helth'" in caught.value.message
    assert caught.value.caret().endswith(" " * 15 + "^^^^^")


def test_selections_describe_themselves(session: Session) -> None:
    make_account(session, external_id="T1", tier=1)
    create_segment(session, name="Top", rule="tier = 1", actor=actor(session))
    by_rule = rule_selection(session, "tier=1")
    by_segment = segment_selection(session, "top")
    assert by_rule.description == "rule: tier = 1"
    assert by_segment.description == "segment: top"
    assert refs(session, by_rule) == refs(session, by_segment) == {"T1"}


def test_load_catalog_replacing_stands_in_for_the_saved_segment(session: Session) -> None:
    make_account(session, external_id="T1", tier=1)
    saved = create_segment(session, name="Top", rule="tier = 1", actor=actor(session))
    draft = SegmentInfo(id=saved.id, name="TOP", rule=parse_rule("tier = 2"))
    catalog = load_catalog(session, [parse_rule('in segment "top"')], replacing=draft)
    assert catalog.segment(ast.SegmentRef(name="Top")).rule == draft.rule
    assert catalog.roles == ("csm",)


def test_load_catalog_is_four_statements_whatever_the_rules_reach(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "a@example.com", name="Ann")
        declare_attribute(session, name="plan", type="text", actor=actor(session))
        create_segment(session, name="Ann's", rule='csm = "Ann"', actor=actor(session))
        create_segment(
            session,
            name="Below",
            rule='ancestor in segment "Ann\'s" and custom.plan = "x"',
            actor=actor(session),
        )
    with write_session(engine) as session:
        with count_statements(engine) as log:
            catalog = load_catalog(session, [parse_rule('in segment "below"')])
        assert log.count == 4  # segments, attributes, roles, users
        # The user named two segments away was resolved by the same statement.
        assert [u.email for u in catalog.users["a@example.com"]] == ["a@example.com"]


def test_standard_fields_need_no_attributes_or_roles(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "a@example.com", name="Ann")
        create_segment(session, name="Ann's", rule='csm = "Ann"', actor=actor(session))
    with write_session(engine) as session:
        with count_statements(engine) as log:
            load_catalog(session, [parse_rule("tier = 1 and parent.mrr > 5 and is_parent")])
        assert log.count == 0
        with count_statements(engine) as log:
            catalog = load_catalog(session, [parse_rule('in segment "Ann\'s" and tier = 1')])
        assert log.count == 2  # segments, users
        assert catalog.roles == ("csm",)
