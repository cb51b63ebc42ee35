"""The materialised membership (stays with entered/left times) and renaming custom attributes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bookwise.accounts.service import build_fields, create_account, declare_attribute
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.errors import Conflict, InvalidInput, InvalidRule, NotFound
from bookwise.models import Account, AttributeDefinition, AuditEvent, SegmentMembership
from bookwise.rules import ast
from bookwise.segments.rules import check_rule, read_rule, segment_selection
from bookwise.segments.service import (
    RefreshResult,
    create_segment,
    get_segment,
    list_segments,
    materialised_counts,
    refresh_segments,
    rename_attribute,
    update_segment,
)
from tests.factories import actor, make_account, make_family_tree, make_user
from tests.helpers import count_statements

Stay = tuple[str, datetime, datetime | None]


def stays(session: Session, name: str) -> list[Stay]:
    """Every stay of the segment, oldest first (then by account): (ref, entered_at, left_at)."""
    segment_id = get_segment(session, name).id
    rows = session.execute(
        select(Account.external_id, SegmentMembership.entered_at, SegmentMembership.left_at)
        .join(Account, Account.id == SegmentMembership.account_id)
        .where(SegmentMembership.segment_id == segment_id)
        .order_by(SegmentMembership.entered_at, Account.external_id)
    )
    return [(ref or "", entered, left) for ref, entered, left in rows]


def current(session: Session, name: str) -> set[str]:
    """External ids with an open stay in the segment."""
    return {ref for ref, _entered, left in stays(session, name) if left is None}


def live(session: Session, name: str) -> set[str]:
    """External ids the segment's rule matches right now."""
    ids = segment_selection(session, name).ids
    return set(session.scalars(select(Account.external_id).where(Account.id.in_(ids))))


def set_health(session: Session, ref: str, score: int | None) -> None:
    session.execute(update(Account).where(Account.external_id == ref).values(health_score=score))


def refresh_one(session: Session, name: str) -> RefreshResult:
    (result,) = refresh_segments(session, names=[name], actor=actor(session))
    return result


def counts(result: RefreshResult) -> tuple[int, int, int]:
    return result.entered, result.left, result.members


def healthy_world(session: Session) -> None:
    """H1 80, H2 60, H3 20, H4 no score; segment "Healthy" is ``health_score >= 50``."""
    for ref, score in (("H1", 80), ("H2", 60), ("H3", 20), ("H4", None)):
        make_account(session, external_id=ref, health_score=score)
    create_segment(session, name="Healthy", rule="health_score >= 50", actor=actor(session))


# --- refresh --------------------------------------------------------------------------------


def test_first_refresh_opens_a_stay_for_each_member(session: Session) -> None:
    healthy_world(session)
    result = refresh_one(session, "healthy")
    assert result.segment == "Healthy"
    assert counts(result) == (2, 0, 2)
    assert stays(session, "Healthy") == [
        ("H1", result.refreshed_at, None),
        ("H2", result.refreshed_at, None),
    ]
    assert get_segment(session, "Healthy").refreshed_at == result.refreshed_at
    assert result.refreshed_at.tzinfo is not None


def test_second_refresh_closes_left_stays_and_opens_entered_ones(session: Session) -> None:
    healthy_world(session)
    ana = make_user(session, "ana@example.com")
    create_segment(session, name="Ana's book", rule='csm = "ana@example.com"', actor=actor(session))
    assign_accounts(session, selection=AccountRefs(["H1"]), csms=[ana], actor=actor(session))
    first = {r.segment: r for r in refresh_segments(session, actor=actor(session))}
    assert counts(first["Healthy"]) == (2, 0, 2)
    assert counts(first["Ana's book"]) == (1, 0, 1)

    set_health(session, "H1", 10)
    set_health(session, "H3", 95)
    assign_accounts(session, selection=AccountRefs(["H3", "H4"]), csms=[ana], actor=actor(session))
    second = {
        r.segment: r
        for r in refresh_segments(session, names=["healthy", "ANA’S BOOK"], actor=actor(session))
    }

    assert counts(second["Healthy"]) == (1, 1, 2)
    assert counts(second["Ana's book"]) == (2, 0, 3)
    t1, t2 = first["Healthy"].refreshed_at, second["Healthy"].refreshed_at
    assert t1 < t2
    assert stays(session, "Healthy") == [("H1", t1, t2), ("H2", t1, None), ("H3", t2, None)]
    t1, t2 = first["Ana's book"].refreshed_at, second["Ana's book"].refreshed_at
    assert stays(session, "Ana's book") == [("H1", t1, None), ("H3", t2, None), ("H4", t2, None)]


def test_reentering_opens_a_new_stay_and_keeps_the_old_one(session: Session) -> None:
    healthy_world(session)
    t1 = refresh_one(session, "Healthy").refreshed_at
    set_health(session, "H2", 5)
    left = refresh_one(session, "Healthy")
    set_health(session, "H2", 70)
    back = refresh_one(session, "Healthy")
    assert (counts(left), counts(back)) == ((0, 1, 1), (1, 0, 2))
    t2, t3 = left.refreshed_at, back.refreshed_at
    h2 = [stay for stay in stays(session, "Healthy") if stay[0] == "H2"]
    assert h2 == [("H2", t1, t2), ("H2", t3, None)]
    assert current(session, "Healthy") == {"H1", "H2"}


def test_refresh_without_change_changes_no_stay(session: Session) -> None:
    healthy_world(session)
    refresh_one(session, "Healthy")
    set_health(session, "H1", 10)
    refresh_one(session, "Healthy")
    before = stays(session, "Healthy")
    again = refresh_one(session, "Healthy")
    assert counts(again) == (0, 0, 1)
    assert stays(session, "Healthy") == before
    assert get_segment(session, "Healthy").refreshed_at == again.refreshed_at


def test_a_segment_that_matches_nothing_refreshes_to_zero(session: Session) -> None:
    healthy_world(session)
    create_segment(session, name="Nobody", rule="health_score > 100", actor=actor(session))
    assert counts(refresh_one(session, "Nobody")) == (0, 0, 0)
    assert stays(session, "Nobody") == []


def test_refresh_follows_segments_that_use_other_segments(session: Session) -> None:
    """A stay in B = "in segment A …" tracks A's rule as it is when B is refreshed."""
    healthy_world(session)
    me = actor(session)
    create_segment(session, name="Healthy top", rule='in segment "Healthy" and tier = 1', actor=me)
    session.execute(update(Account).values(tier=1))
    assert counts(refresh_one(session, "Healthy top")) == (2, 0, 2)
    update_segment(session, name="Healthy", rule="health_score >= 70", actor=me)
    assert counts(refresh_one(session, "Healthy top")) == (0, 1, 1)
    assert current(session, "Healthy top") == {"H1"}


def test_refresh_of_all_segments_in_id_order(session: Session) -> None:
    healthy_world(session)
    me = actor(session)
    create_segment(session, name="A scored", rule="health_score is not empty", actor=me)
    create_segment(session, name="Unscored", rule="health_score is empty", actor=me)
    results = refresh_segments(session, actor=actor(session))
    assert [r.segment for r in results] == ["Healthy", "A scored", "Unscored"]
    assert [counts(r) for r in results] == [(2, 0, 2), (3, 0, 3), (1, 0, 1)]
    assert all(s.refreshed_at is not None for s in list_segments(session))


def test_refresh_of_named_segments_only(session: Session) -> None:
    healthy_world(session)
    create_segment(session, name="Unscored", rule="health_score is empty", actor=actor(session))
    assert [
        r.segment for r in refresh_segments(session, names=["unscored"], actor=actor(session))
    ] == ["Unscored"]
    assert get_segment(session, "Healthy").refreshed_at is None
    assert stays(session, "Healthy") == []


def test_a_segment_named_twice_is_refreshed_once(session: Session) -> None:
    healthy_world(session)
    results = refresh_segments(session, names=["Healthy", " HEALTHY "], actor=actor(session))
    assert [(r.segment, counts(r)) for r in results] == [("Healthy", (2, 0, 2))]


def test_refresh_with_an_unknown_name_refreshes_nothing(session: Session) -> None:
    healthy_world(session)
    with pytest.raises(NotFound, match="no segment named 'Nope'"):
        refresh_segments(session, names=["Healthy", "Nope"], actor=actor(session))
    assert stays(session, "Healthy") == []


def test_a_segment_over_the_rule_budget_fails_alone_and_the_others_refresh(
    session: Session,
) -> None:
    # Saved before the budget existed: 500 conditions crashed "refresh all" for everyone.
    healthy_world(session)
    me = actor(session)
    create_segment(session, name="Huge", rule="tier = 1", actor=me)
    create_segment(session, name="Uses huge", rule='in segment "Huge" or tier = 2', actor=me)
    create_segment(session, name="Zeta", rule="health_score < 50", actor=me)
    huge = " or ".join(f"nps={n % 9}" for n in range(500))
    get_segment(session, "Huge").rule = ast.rule_to_json(read_rule(huge)[0])
    session.flush()

    results = {r.segment: r for r in refresh_segments(session, actor=me)}

    assert results["Healthy"].error is None
    assert counts(results["Healthy"]) == (2, 0, 2)
    assert current(session, "Zeta") == {"H3"}
    for name in ("Huge", "Uses huge"):
        failed = results[name]
        assert failed.error is not None
        assert failed.error.startswith(f"segment {name!r} was not refreshed: ")
        assert "more than 200 conditions" in failed.error
        assert (failed.refreshed_at, counts(failed)) == (None, (0, 0, 0))
        assert get_segment(session, name).refreshed_at is None
        assert stays(session, name) == []
    refreshed = session.scalars(
        select(AuditEvent.subject_key).where(AuditEvent.action == "segment.refreshed")
    )
    ids = {get_segment(session, n).id for n in ("Healthy", "Zeta")}
    assert {int(key) for key in refreshed} == ids


def test_materialised_counts_match_live_counts_after_refresh(session: Session) -> None:
    healthy_world(session)
    me = actor(session)
    create_segment(session, name="Unscored", rule="health_score is empty", actor=me)
    create_segment(session, name="Nobody", rule="health_score > 100", actor=me)
    create_segment(session, name="Not healthy", rule='not in segment "Healthy"', actor=me)
    assert materialised_counts(session) == {}

    def live_counts() -> dict[int, int]:
        found = {}
        for segment in list_segments(session):
            matches = check_rule(session, f'in segment "{segment.name}"').matches
            assert matches == len(live(session, segment.name))
            if matches:
                found[segment.id] = matches
        return found

    refresh_segments(session, actor=actor(session))
    assert materialised_counts(session) == live_counts()
    set_health(session, "H4", 99)
    set_health(session, "H1", 1)
    stale = materialised_counts(session)
    assert stale != live_counts()  # as of the last refresh, until the next one
    refresh_segments(session, actor=actor(session))
    assert materialised_counts(session) == live_counts()
    everything = materialised_counts(session)
    for segment in list_segments(session):
        only = materialised_counts(session, segment_ids=[segment.id])
        assert only == ({segment.id: everything[segment.id]} if segment.id in everything else {})
    for segment in list_segments(session):
        assert current(session, segment.name) == live(session, segment.name)


# --- rename a custom attribute --------------------------------------------------------------


ATTRIBUTES = {"plan": "text", "seats": "number", "churn_risk": "boolean", "kickoff": "date"}
SEGMENT_RULES = {
    "Gold": 'custom.plan = "GOLD"',
    "At risk": "custom.churn_risk",
    "Safe": "custom.churn_risk = false",
    "Unknown risk": "custom.churn_risk is empty",
    "Big": "custom.seats >= 10 or parent.custom.seats >= 10",
    "Early": "custom.kickoff < 2026-03-01",
    "No kickoff": 'custom.kickoff is empty and not (custom.plan contains "silv")',
    "Tier one": "tier = 1",
}


def make_custom_account(
    session: Session, ref: str, custom: dict[str, str], *, parent: Account | None = None
) -> Account:
    """An account with custom values given as text, typed by their declarations."""
    return create_account(
        session,
        fields=build_fields(name=f"Account {ref}", external_id=ref),
        parent=parent,
        custom=custom,
        actor=actor(session),
    )


def custom_world(session: Session) -> None:
    """Four attributes, accounts covering each type, a null value and a missing key."""
    me = actor(session)
    for name, kind in ATTRIBUTES.items():
        declare_attribute(session, name=name, type=kind, actor=me)
    declare_attribute(session, name="plan_note", type="text", actor=me)
    gold = make_custom_account(
        session,
        "GOLD",
        {"plan": "Gold", "seats": "12", "churn_risk": "true", "kickoff": "2026-01-05"},
    )
    make_custom_account(
        session,
        "SILVER",
        {"plan": "Silver", "seats": "3.5", "churn_risk": "false", "kickoff": ""},
        parent=gold,
    )
    make_custom_account(session, "NOTE", {"plan_note": "plan B", "plan": ""})
    make_account(session, external_id="BARE", tier=1)
    for name, rule in SEGMENT_RULES.items():
        create_segment(session, name=name, rule=rule, actor=me)


def customs(session: Session) -> dict[str, dict[str, Any]]:
    session.expire_all()
    rows = session.execute(select(Account.external_id, Account.custom).order_by(Account.id))
    return {ref or "": dict(custom) for ref, custom in rows}


def json_type(engine: Engine, ref: str, key: str) -> str | None:
    """How the database itself types the JSON value (a boolean must stay a JSON boolean)."""
    with write_session(engine) as session:
        custom = select(Account.custom).where(Account.external_id == ref).scalar_subquery()
        if engine.dialect.name == "postgresql":
            kind = func.jsonb_typeof(custom.op("->")(key))
        else:
            kind = func.json_type(custom, f'$."{key}"')
        found = session.scalar(select(kind))
        return None if found is None else str(found)


def test_rename_moves_every_value_to_the_new_key(engine: Engine) -> None:
    with write_session(engine) as session:
        custom_world(session)
        before = customs(session)
        members = {name: live(session, name) for name in SEGMENT_RULES}
    assert before["GOLD"] == {
        "plan": "Gold",
        "seats": 12,
        "churn_risk": True,
        "kickoff": "2026-01-05",
    }
    assert before["SILVER"] == {
        "plan": "Silver",
        "seats": 3.5,
        "churn_risk": False,
        "kickoff": None,
    }

    renames = {"plan": "tariff", "seats": "licences", "churn_risk": "at_risk", "kickoff": "go_live"}
    with write_session(engine) as session:
        for old, new in renames.items():
            rename_attribute(session, old=old, new=new, actor=actor(session))
        after = customs(session)
        names = {d.name for d in session.scalars(select(AttributeDefinition))}

    expected = {
        ref: {renames.get(key, key): value for key, value in custom.items()}
        for ref, custom in before.items()
    }
    assert after == expected
    assert after["BARE"] == {}  # a missing key stays missing (not a new null)
    assert after["NOTE"] == {"plan_note": "plan B", "tariff": None}
    assert after["GOLD"]["at_risk"] is True
    assert after["SILVER"]["at_risk"] is False
    assert (json_type(engine, "GOLD", "at_risk"), json_type(engine, "SILVER", "at_risk")) in (
        ("true", "false"),  # SQLite names the two JSON literals
        ("boolean", "boolean"),
    )
    assert json_type(engine, "SILVER", "go_live") == "null"
    assert json_type(engine, "SILVER", "licences") in ("real", "number")
    assert json_type(engine, "GOLD", "churn_risk") is None
    assert names == {"tariff", "licences", "at_risk", "go_live", "plan_note"}

    with write_session(engine) as session:
        for name in SEGMENT_RULES:
            assert live(session, name) == members[name], name


def test_rename_rewrites_segment_rules_that_use_the_attribute(session: Session) -> None:
    custom_world(session)
    members = {name: live(session, name) for name in SEGMENT_RULES}
    refresh_segments(session, actor=actor(session))
    changed = rename_attribute(session, old="churn_risk", new="at_risk", actor=actor(session))
    assert changed == ["At risk", "Safe", "Unknown risk"]
    rules = {s.name: s.rule_text for s in list_segments(session)}
    assert rules["At risk"] == "custom.at_risk"
    assert rules["Safe"] == "custom.at_risk = false"
    assert rules["Unknown risk"] == "custom.at_risk is empty"
    assert rules["Tier one"] == "tier = 1"

    changed = rename_attribute(session, old="seats", new="licences", actor=actor(session))
    assert changed == ["Big"]
    assert get_segment(session, "Big").rule_text == (
        "custom.licences >= 10 or parent.custom.licences >= 10"
    )
    assert get_segment(session, "Big").rule["items"][1]["field"] == "parent.custom.licences"
    changed = rename_attribute(session, old="plan", new="tariff", actor=actor(session))
    assert changed == ["Gold", "No kickoff"]  # plan_note is another attribute

    for name in SEGMENT_RULES:
        assert live(session, name) == members[name], name
    assert all(counts(r)[:2] == (0, 0) for r in refresh_segments(session, actor=actor(session)))
    with pytest.raises(InvalidRule, match=r"unknown field 'custom\.churn_risk'"):
        check_rule(session, "custom.churn_risk")


def test_rename_is_audited(session: Session) -> None:
    custom_world(session)
    rename_attribute(session, old=" seats ", new="licences", actor=actor(session))
    session.flush()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "attribute.renamed"))
    assert event is not None
    assert (event.subject_key, event.details) == ("licences", {"old": "seats", "new": "licences"})


def test_rename_onto_an_existing_attribute_is_a_conflict(session: Session) -> None:
    custom_world(session)
    before = customs(session)
    with pytest.raises(Conflict, match="'plan_note' is already declared"):
        rename_attribute(session, old="plan", new="plan_note", actor=actor(session))
    assert customs(session) == before
    assert get_segment(session, "Gold").rule_text == 'custom.plan = "GOLD"'


def test_rename_of_an_unknown_attribute_is_not_found(session: Session) -> None:
    custom_world(session)
    with pytest.raises(NotFound, match="no custom attribute 'colour'"):
        rename_attribute(session, old="colour", new="hue", actor=actor(session))


@pytest.mark.parametrize("new", ["2fast", "has space", "x" * 65, "custom.plan"])
def test_rename_to_an_invalid_name_is_refused(session: Session, new: str) -> None:
    custom_world(session)
    with pytest.raises(InvalidInput, match="must be a letter"):
        rename_attribute(session, old="plan", new=new, actor=actor(session))


# --- statement counts -----------------------------------------------------------------------


def statement_world(session: Session, size: int, prefix: str) -> str:
    """``size`` accounts (parents with four children each); returns the segment's name."""
    me = actor(session)
    parents, _children = make_family_tree(
        session, parents=size // 5, children_each=4, prefix=prefix
    )
    csm = make_user(session, f"csm-{prefix}@example.com")
    assign_accounts(
        session, selection=AccountRefs([p.id for p in parents[::2]]), csms=[csm], actor=me
    )
    create_segment(
        session, name=f"{prefix} base", rule=f'external_id starts with "{prefix}P"', actor=me
    )
    name = f"{prefix} watched"
    create_segment(
        session,
        name=name,
        rule=f'external_id starts with "{prefix}" and (csm = "csm-{prefix}@example.com" '
        f'or parent in segment "{prefix} base" or ancestor in segment "{prefix} base" '
        "or mrr > 300)",
        actor=me,
    )
    return name


def churn(session: Session, prefix: str) -> None:
    """Most parents lose their MRR and their name: their stays close, so both statements work."""
    session.execute(
        update(Account)
        .where(Account.external_id.like(f"{prefix}P%"), Account.mrr >= 200_00)
        .values(mrr=None, external_id=func.replace(Account.external_id, f"{prefix}P", f"X{prefix}"))
    )


@pytest.mark.parametrize("step", ["first refresh", "refresh after changes", "rename attribute"])
def test_statement_count_does_not_grow_with_accounts(engine: Engine, step: str) -> None:
    found = {}
    for size, prefix in ((10, "S"), (1000, "L")):
        with write_session(engine) as session:
            name = statement_world(session, size, prefix)
            if step == "rename attribute":
                declare_attribute(
                    session, name=f"{prefix}_seats", type="number", actor=actor(session)
                )
                session.execute(
                    update(Account)
                    .where(Account.external_id.like(f"{prefix}%"))
                    .values(custom={f"{prefix}_seats": 3})
                )
                create_segment(
                    session,
                    name=f"{prefix} seats",
                    rule=f"custom.{prefix}_seats = 3",
                    actor=actor(session),
                )
        if step == "refresh after changes":
            with write_session(engine) as session:
                refresh_segments(session, names=[name], actor=actor(session))
                churn(session, prefix)
        with write_session(engine) as session:
            with count_statements(engine) as log:
                if step == "rename attribute":
                    me = actor(session)
                    rename_attribute(
                        session, old=f"{prefix}_seats", new=f"{prefix}_licences", actor=me
                    )
                    session.flush()
                else:
                    (result,) = refresh_segments(session, names=[name], actor=actor(session))
            found[size] = log.count
        if step != "rename attribute":
            assert result.members > 0
            if step == "refresh after changes":
                assert result.left > 0
    assert found[10] == found[1000], f"{step}: {found}"
    assert found[10] <= 20, f"{step}: {found[10]} statements"
