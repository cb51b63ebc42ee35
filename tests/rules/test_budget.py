"""The rule budget: what crashed the databases is refused with a position, and the biggest
rule within the budget runs on both databases in every statement a rule is wrapped in."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bookwise.assignments.service import assign_accounts, transfer_accounts
from bookwise.db import read_session, write_session
from bookwise.errors import InvalidRule
from bookwise.exporting.accounts import write_accounts_csv
from bookwise.models import Account, Segment, User
from bookwise.rules import ast
from bookwise.rules.budget import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_JSON_ITEMS,
    MAX_VALUES,
    SUBQUERY_DEPTH,
)
from bookwise.segments.rules import check_rule, compile_where, read_rule
from bookwise.segments.selection import AccountFilter, build_selection, list_selected
from bookwise.segments.service import create_segment, refresh_segments, segment_members
from tests.factories import actor, make_account, make_user


def refused(session: Session, rule: ast.Rule | str | dict[str, object]) -> InvalidRule:
    with pytest.raises(InvalidRule) as caught:
        compile_where(session, rule)
    return caught.value


def any_child(depth: int, inner: str = "tier = 1") -> str:
    return "any child (" * depth + inner + ")" * depth


def groups(depth: int, inner: str) -> str:
    """``depth`` groups, each switching between or and and."""
    opened = "".join(f"(tier = {n % 5} {'and' if n % 2 else 'or'} " for n in range(depth))
    return opened + inner + ")" * depth


def nth(text: str, part: str, n: int) -> int:
    """Where the ``n``-th (1-based) ``part`` starts in ``text``."""
    start = -1
    for _ in range(n):
        start = text.index(part, start + 1)
    return start


# --- what crashed the databases is refused, with the position ------------------------------


def test_a_thousand_or_conditions_are_refused_at_the_first_one_too_many(session: Session) -> None:
    # SQLite: "Expression tree is too large (maximum depth 1000)", a 500, before the budget.
    rule = " or ".join(f"tier={n % 5}" for n in range(1000))
    assert len(rule) < 10_000
    error = refused(session, rule)
    assert error.span is not None
    assert error.span[0] == nth(rule, "tier=", MAX_CONDITIONS + 1)
    assert f"more than {MAX_CONDITIONS} conditions" in error.reason


@pytest.mark.parametrize("depth", [10, 99])
def test_deeply_nested_any_child_is_refused_where_it_goes_too_deep(
    session: Session, depth: int
) -> None:
    # SQLite: "parser stack overflow" at 10; PostgreSQL: RecursionError at 99.
    rule = any_child(depth)
    error = refused(session, rule)
    assert error.span is not None
    assert error.span[0] == nth(rule, "any child", MAX_DEPTH // SUBQUERY_DEPTH + 1)
    assert "nests too deep" in error.reason


def test_a_long_parent_chain_is_refused(session: Session) -> None:
    # SQLite: "parser stack overflow" at 12 steps.
    rule = "parent." * 12 + "tier = 1"
    error = refused(session, rule)
    assert error.span is not None
    assert "nests too deep" in error.reason


def test_deep_and_or_groups_are_refused(session: Session) -> None:
    rule = groups(40, "tier = 1")  # SQLite: "parser stack overflow"
    error = refused(session, rule)
    assert error.span is not None
    assert "nests too deep" in error.reason


def test_too_many_values_are_refused(session: Session) -> None:
    values = ",".join(str(n % 10) for n in range(MAX_VALUES + 1))
    error = refused(session, f"tier in ({values})")
    assert f"more than {MAX_VALUES:,} values" in error.reason


def test_a_huge_json_rule_is_refused_quickly_with_its_path(session: Session) -> None:
    # 100,000 items: 21.6 s of CPU, then a 500, before the budget.
    condition = {"kind": "condition", "field": "tier", "op": "=", "value": 1}
    started = time.monotonic()
    error = refused(session, {"kind": "or", "items": [condition] * 100_000})
    assert time.monotonic() - started < 1
    assert f"more than {MAX_JSON_ITEMS:,} items" in error.reason
    assert error.path == "items"  # the list that is too long


def test_a_deeply_nested_json_rule_is_refused_not_a_recursion_error(session: Session) -> None:
    rule: dict[str, object] = {"kind": "condition", "field": "tier", "op": "=", "value": 1}
    for _ in range(10_000):
        rule = {"kind": "not", "item": rule}
    error = refused(session, rule)
    assert "nests more than" in error.reason
    assert error.path is not None
    assert error.path.startswith("item.item.")


def test_the_json_form_has_the_same_budget_as_the_text(session: Session) -> None:
    text = " or ".join(f"tier={n % 5}" for n in range(MAX_CONDITIONS + 1))
    as_json = ast.rule_to_json(read_rule(text)[0])
    assert f"more than {MAX_CONDITIONS} conditions" in refused(session, as_json).reason
    assert "nests too deep" in refused(session, ast.rule_to_json(read_rule(any_child(6))[0])).reason


def test_segments_count_with_what_they_expand_to(session: Session) -> None:
    half = " or ".join(f"tier={n % 5}" for n in range(MAX_CONDITIONS // 2 + 1))
    create_segment(session, name="Half", rule=half, actor=actor(session))
    rule = 'tier = 1 and (in segment "Half" or region = "EMEA")'
    assert check_rule(session, rule).matches == 0
    twice = 'in segment "Half" or parent in segment "Half"'
    error = refused(session, twice)
    assert error.span == (nth(twice, "parent in segment", 1), len(twice))  # the reference
    assert f"more than {MAX_CONDITIONS} conditions" in error.reason
    deep = any_child(4)
    create_segment(session, name="Deep", rule=deep, actor=actor(session))
    assert check_rule(session, 'any child (in segment "Deep")').matches == 0  # 5 deep
    error = refused(session, 'tier = 1 and any child (any child (in segment "Deep"))')
    assert "nests too deep" in error.reason
    assert error.span is not None
    assert error.span[0] == len("tier = 1 and any child (any child (")


def test_a_segment_chain_that_doubles_at_each_step_is_refused_quickly(session: Session) -> None:
    create_segment(session, name="s0", rule="tier = 1 or tier = 2", actor=actor(session))
    for n in range(1, 7):  # s6 holds 191 conditions
        rule = f'in segment "s{n - 1}" or region = "R{n}" or in segment "s{n - 1}"'
        create_segment(session, name=f"s{n}", rule=rule, actor=actor(session))
    rule = 'in segment "s6" or in segment "s6"'
    with pytest.raises(InvalidRule, match="conditions") as caught:
        create_segment(session, name="s7", rule=rule, actor=actor(session))
    assert caught.value.span == (rule.rindex("in segment"), len(rule))
    # Chained further before the budget existed: 2**40 conditions, refused at the 201st.
    for n in range(7, 41):
        create_segment(session, name=f"s{n}", rule="tier = 1", actor=actor(session))
        segment = session.scalars(select(Segment).where(Segment.name == f"s{n}")).one()
        twice = f'in segment "s{n - 1}" or in segment "s{n - 1}"'
        segment.rule = ast.rule_to_json(read_rule(twice)[0])
    session.flush()
    started = time.monotonic()
    assert "conditions" in refused(session, 'in segment "s40"').reason
    assert time.monotonic() - started < 1


def test_a_segment_saved_before_the_budget_is_refused_when_used(session: Session) -> None:
    create_segment(session, name="Old", rule="tier = 1", actor=actor(session))
    big = ast.rule_to_json(read_rule(" or ".join(f"tier={n % 5}" for n in range(500)))[0])
    segment = session.scalars(select(Segment)).one()
    segment.rule = big  # as saved before the budget existed
    session.flush()
    rule = 'region = "EMEA" and in segment "Old"'
    error = refused(session, rule)
    assert error.span == (rule.index("in segment"), len(rule))


# --- the biggest rules within the budget run everywhere ------------------------------------

BIGGEST = {
    "conditions": " or ".join(f"tier != {n % 5}" for n in range(MAX_CONDITIONS)),
    "and conditions": " and ".join(f"csm count != {n}" for n in range(MAX_CONDITIONS)),
    "values": "tier in ({}) or nps not in ({})".format(
        ",".join(str(n) for n in range(MAX_VALUES // 2)),
        ",".join(str(n) for n in range(MAX_VALUES // 2)),
    ),
    "any child": any_child(MAX_DEPTH // SUBQUERY_DEPTH, "csm count != 1"),
    "any child and parent": any_child(4, "parent.csm is empty"),
    "parent chain": "parent." * (MAX_DEPTH // SUBQUERY_DEPTH) + "csm is empty",
    "groups": groups(MAX_DEPTH - 1, "tier != 2 or csm is empty"),
    "not groups": "".join(f"not (tier = {n} or " for n in range(MAX_DEPTH))
    + "csm = a@x.com"
    + ")" * MAX_DEPTH,
    "groups around any child": groups(3, any_child(4, "tier != 1 and csm is empty")),
    "any child around groups": any_child(4, groups(3, "csm count != 1")),
    "ancestor segments": 'ancestor in segment "Below"',
}


def runs_everywhere(engine: Engine, rule: str) -> None:
    """``rule`` in every statement bookwise wraps a rule in: check, listing, export, the
    previews of assign and transfer, a segment's refresh and its live members."""
    with read_session(engine) as session:
        check_rule(session, rule)
        list_selected(session, AccountFilter(where=rule, assigned_to="a@x.com"))
        where, _ = AccountFilter(where=rule, not_assigned_to="a@x.com").conditions(session)

        class Sink:
            def write(self, text: str) -> int:
                return len(text)

        write_accounts_csv(session, Sink(), where=where, sort="name")  # type: ignore[arg-type]
    with write_session(engine) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        filters = AccountFilter(where=rule, not_assigned_to="b@x.com", who="no-one")
        selection = build_selection(session, [], filters, required=True)
        me = actor(session)
        csms = [users["a@x.com"]]
        assign_accounts(session, selection=selection, csms=csms, actor=me, dry_run=True)
        selection = build_selection(session, [], AccountFilter(where=rule), required=True)
        transfer_accounts(
            session,
            from_csm=users["a@x.com"],
            to_csm=users["b@x.com"],
            selection=selection,
            actor=actor(session),
            dry_run=True,
        )
        create_segment(session, name="Biggest", rule=rule, actor=actor(session))
        (result,) = refresh_segments(session, names=["Biggest"], actor=actor(session))
        assert result.error is None
        segment_members(session, name="Biggest")
        session.rollback()


@pytest.mark.parametrize("shape", list(BIGGEST))
def test_the_biggest_rule_within_the_budget_runs(engine: Engine, shape: str) -> None:
    with write_session(engine) as session:
        make_user(session, "a@x.com")
        make_user(session, "b@x.com")
        top = make_account(session, tier=1)
        middle = make_account(session, tier=2, parent=top)
        make_account(session, tier=3, parent=middle)
        create_segment(session, name="Top", rule="tier = 1", actor=actor(session))
        inner = 'ancestor in segment "Top" and any child (csm is empty)'
        create_segment(session, name="Below", rule=inner, actor=actor(session))
    runs_everywhere(engine, BIGGEST[shape])
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 3


def test_over_the_budget_by_one_is_refused(session: Session) -> None:
    create_segment(session, name="Top", rule="tier = 1", actor=actor(session))
    create_segment(session, name="Top2", rule='ancestor in segment "Top"', actor=actor(session))
    assert check_rule(session, 'any child (ancestor in segment "Top2")').matches == 0  # 15
    over: list[Callable[[], str]] = [
        lambda: " or ".join(f"tier != {n % 5}" for n in range(MAX_CONDITIONS + 1)),
        lambda: any_child(MAX_DEPTH // SUBQUERY_DEPTH + 1),
        lambda: groups(MAX_DEPTH + 1, "tier = 1"),
        lambda: 'tier = 1 or any child (ancestor in segment "Top2")',  # 16
    ]
    for rule in over:
        refused(session, rule())
