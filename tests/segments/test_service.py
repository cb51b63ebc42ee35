"""Segments as saved rules: create, find, edit, rename, delete, and what they select."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.errors import Conflict, InvalidInput, InvalidRule, NotFound
from bookwise.models import Account, AuditEvent, Segment, SegmentMembership, User
from bookwise.segments.rules import check_rule, rule_selection, segment_selection
from bookwise.segments.service import (
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    refresh_segments,
    segment_members,
    update_segment,
    users_of,
)
from tests.factories import actor, make_account, make_user

MICHAEL = "michael@example.com"


def matching(session: Session, rule: str) -> set[str]:
    """External ids of the accounts a rule matches right now."""
    return set(
        session.scalars(
            select(Account.external_id).where(Account.id.in_(rule_selection(session, rule).ids))
        )
    )


def in_segment(session: Session, name: str) -> set[str]:
    """External ids of the segment's live members, through the selection the services use."""
    ids = segment_selection(session, name).ids
    return set(session.scalars(select(Account.external_id).where(Account.id.in_(ids))))


def listed_members(session: Session, name: str) -> set[str]:
    """External ids on the first page of ``segment_members`` (the listing path)."""
    page = segment_members(session, name=name, limit=500)
    assert page.total == len(page.items)
    return {row.external_id or "" for row in page.items}


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def assign(session: Session, refs: list[str], csm: User) -> None:
    assign_accounts(session, selection=AccountRefs(refs), csms=[csm], actor=actor(session))


# --- create, list, get ---------------------------------------------------------------------


def test_create_stores_canonical_text_json_and_author(session: Session) -> None:
    me = actor(session)
    segment = create_segment(
        session,
        name="  Big   accounts ",
        rule="tier = 1 AND mrr > 5000",
        description="  top tier  ",
        actor=me,
    )
    assert segment.name == "Big accounts"
    assert segment.name_key == "big accounts"
    assert segment.description == "top tier"
    assert segment.rule_text == "tier = 1 and mrr > 5000"
    assert segment.rule["kind"] == "and"
    assert segment.created_by_id == me.id
    assert segment.refreshed_at is None


def test_get_ignores_case_spacing_and_curly_apostrophes(session: Session) -> None:
    create_segment(
        session, name="Michael's parent companies", rule="tier = 1", actor=actor(session)
    )
    for spelling in (
        "michael's parent companies",
        "MICHAEL'S   PARENT companies",
        "michael\u2019s parent companies",
        "Michael\u2018s parent companies ",
    ):
        assert get_segment(session, spelling).name == "Michael's parent companies"


def test_get_unknown_suggests_the_near_miss(session: Session) -> None:
    create_segment(session, name="Strategic", rule="tier = 1", actor=actor(session))
    with pytest.raises(NotFound, match="did you mean 'Strategic'"):
        get_segment(session, "Stratgic")


def test_list_is_by_name_without_regard_to_case(session: Session) -> None:
    me = actor(session)
    for name in ("beta", "Alpha", "gamma"):
        create_segment(session, name=name, rule="tier = 1", actor=me)
    assert [s.name for s in list_segments(session)] == ["Alpha", "beta", "gamma"]


@pytest.mark.parametrize("spelling", ["strategic", "  STRATEGIC ", "Strategic"])
def test_duplicate_name_is_a_conflict(session: Session, spelling: str) -> None:
    create_segment(session, name="Strategic", rule="tier = 1", actor=actor(session))
    with pytest.raises(Conflict, match="already exists"):
        create_segment(session, name=spelling, rule="tier = 2", actor=actor(session))


def test_curly_apostrophe_name_is_the_same_name(session: Session) -> None:
    create_segment(session, name="Ana's book", rule="tier = 1", actor=actor(session))
    with pytest.raises(Conflict):
        create_segment(session, name="ana\u2019s book", rule="tier = 2", actor=actor(session))


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_name_must_be_1_to_200_characters(session: Session, name: str) -> None:
    with pytest.raises(InvalidInput, match="1 to 200"):
        create_segment(session, name=name, rule="tier = 1", actor=actor(session))


# --- rules checked at save time ------------------------------------------------------------


def test_syntax_error_points_at_the_text_with_a_caret(session: Session) -> None:
    with pytest.raises(InvalidRule) as caught:
        create_segment(session, name="Broken", rule="tier = 1 and mrr > > 5", actor=actor(session))
    error = caught.value
    assert error.text == "tier = 1 and mrr > > 5"
    assert error.span == (19, 20)
    assert error.caret().splitlines() == ["  tier = 1 and mrr > > 5", "  " + " " * 19 + "^"]
    assert "unexpected '>'" in error.message
    assert "(column 20)" in error.message
    assert session.scalar(select(func.count()).select_from(Segment)) == 0


@pytest.mark.parametrize(
    ("rule", "reason", "culprit"),
    [
        ('csm is "nobody@example.com"', "no user with email or name", '"nobody@example.com"'),
        ('tier = 1 and in segment "Nope"', "no segment named 'Nope'", 'in segment "Nope"'),
        ('colour = "red"', "unknown field 'colour'", "colour"),
        ('tier = "gold"', "tier is a number", '"gold"'),
    ],
)
def test_unknown_names_are_refused_at_save_time_with_a_caret(
    session: Session, rule: str, reason: str, culprit: str
) -> None:
    """The caret underlines the offending part (all of it, or the name within it)."""
    make_user(session, MICHAEL)
    with pytest.raises(InvalidRule, match=reason) as caught:
        create_segment(session, name="Bad", rule=rule, actor=actor(session))
    error = caught.value
    assert error.text == rule
    assert error.span is not None
    start, end = error.span
    assert rule.index(culprit) <= start < end <= rule.index(culprit) + len(culprit)
    assert error.caret().splitlines() == ["  " + rule, "  " + " " * start + "^" * (end - start)]
    assert session.scalar(select(func.count()).select_from(Segment)) == 0


def test_segment_reference_suggests_the_near_miss(session: Session) -> None:
    create_segment(session, name="Strategic", rule="tier = 1", actor=actor(session))
    with pytest.raises(InvalidRule, match="did you mean 'Strategic'"):
        create_segment(session, name="Bad", rule='in segment "Stratgic"', actor=actor(session))


def test_rule_as_json_is_accepted_and_malformed_json_names_the_path(session: Session) -> None:
    rule = {
        "kind": "condition",
        "field": "tier",
        "op": "=",
        "value": {"type": "number", "value": 1},
    }
    segment = create_segment(session, name="Json", rule=rule, actor=actor(session))
    assert segment.rule_text == "tier = 1"
    with pytest.raises(InvalidRule, match="at "):
        create_segment(
            session, name="Bad", rule={"kind": "condition", "field": "tier"}, actor=actor(session)
        )


# --- edit, rename ---------------------------------------------------------------------------


def test_edit_rule_changes_members_and_text(session: Session) -> None:
    make_account(session, external_id="T1", tier=1)
    make_account(session, external_id="T2", tier=2)
    create_segment(session, name="Tiered", rule="tier = 1", actor=actor(session))
    assert in_segment(session, "tiered") == {"T1"}
    segment = update_segment(session, name="TIERED", rule="tier in (1, 2)", actor=actor(session))
    assert segment.rule_text == "tier in (1, 2)"
    assert in_segment(session, "Tiered") == {"T1", "T2"}


def test_invalid_edit_keeps_the_old_rule(session: Session) -> None:
    create_segment(session, name="Tiered", rule="tier = 1", actor=actor(session))
    with pytest.raises(InvalidRule, match="unknown field"):
        update_segment(session, name="Tiered", rule="tiers = 2", actor=actor(session))
    assert get_segment(session, "Tiered").rule_text == "tier = 1"


def test_edit_description_only(session: Session) -> None:
    create_segment(session, name="Tiered", rule="tier = 1", actor=actor(session))
    segment = update_segment(session, name="Tiered", description=" why ", actor=actor(session))
    assert (segment.description, segment.rule_text) == ("why", "tier = 1")


def test_rename_rewrites_references_in_other_segments(session: Session) -> None:
    make_account(session, external_id="T1", tier=1, region="EMEA")
    make_account(session, external_id="T2", tier=1, region="APAC")
    me = actor(session)
    create_segment(session, name="Top", rule="tier = 1", actor=me)
    user = create_segment(
        session, name="Top EMEA", rule='in segment "top" and region = "emea"', actor=me
    )
    either = create_segment(
        session, name="Either", rule='not (in segment "TOP") or parent in segment "Top"', actor=me
    )
    # References are stored under the referenced segment's own spelling.
    assert user.rule_text == 'in segment "Top" and region = "emea"'
    before = in_segment(session, "Top EMEA")

    update_segment(session, name="top", new_name="Tier one", actor=me)

    assert user.rule_text == 'in segment "Tier one" and region = "emea"'
    assert user.rule["items"][0]["name"] == "Tier one"
    assert either.rule_text == 'not in segment "Tier one" or parent in segment "Tier one"'
    assert in_segment(session, "Top EMEA") == before == {"T1"}
    assert users_of(session, get_segment(session, "tier one")) == ["Either", "Top EMEA"]
    with pytest.raises(NotFound):
        get_segment(session, "Top")


def test_rename_marks_the_rewritten_segments_updated(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="Top", rule="tier = 1", actor=me)
    user = create_segment(session, name="User", rule='in segment "Top"', actor=me)
    bystander = create_segment(session, name="Bystander", rule="tier = 2", actor=me)
    before = user.updated_at, bystander.updated_at
    update_segment(session, name="Top", new_name="Tier one", actor=me)
    assert user.updated_at > before[0]
    assert bystander.updated_at == before[1]


def test_rename_to_a_taken_name_is_a_conflict_but_a_respelling_is_not(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="Top", rule="tier = 1", actor=me)
    create_segment(session, name="Low", rule="tier = 3", actor=me)
    with pytest.raises(Conflict, match="already exists"):
        update_segment(session, name="Low", new_name="TOP", actor=me)
    assert update_segment(session, name="top", new_name="TOP", actor=me).name == "TOP"


def test_rename_and_new_rule_together(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="Base", rule="tier = 1", actor=me)
    create_segment(session, name="Old", rule="tier = 2", actor=me)
    renamed = update_segment(
        session, name="Old", new_name="New", rule='in segment "base" or tier = 2', actor=me
    )
    assert (renamed.name, renamed.rule_text) == ("New", 'in segment "Base" or tier = 2')


# --- cycles ----------------------------------------------------------------------------------


def test_self_reference_is_refused(session: Session) -> None:
    with pytest.raises(InvalidRule, match="cycle: Loop → Loop"):
        create_segment(session, name="Loop", rule='in segment "loop"', actor=actor(session))
    assert session.scalar(select(func.count()).select_from(Segment)) == 0


def test_editing_into_a_cycle_is_refused(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="B", rule="tier = 1", actor=me)
    create_segment(session, name="A", rule='in segment "B" or tier = 2', actor=me)
    with pytest.raises(InvalidRule, match="cycle: B → A → B"):
        update_segment(session, name="B", rule='in segment "A"', actor=me)
    with pytest.raises(InvalidRule, match="cycle: A → A"):
        update_segment(session, name="A", rule='parent in segment "a"', actor=me)
    assert get_segment(session, "B").rule_text == "tier = 1"


def test_a_longer_cycle_through_ancestors_is_refused(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="C", rule="tier = 1", actor=me)
    create_segment(session, name="B", rule='ancestor in segment "C"', actor=me)
    create_segment(session, name="A", rule='not in segment "B"', actor=me)
    with pytest.raises(InvalidRule, match="cycle: C → A → B → C"):
        update_segment(session, name="C", rule='any child (in segment "A")', actor=me)


# --- delete ----------------------------------------------------------------------------------


def test_delete_in_use_is_refused_naming_the_users(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="Base", rule="tier = 1", actor=me)
    create_segment(session, name="Uses base", rule='in segment "base"', actor=me)
    create_segment(session, name="Also", rule='ancestor in segment "BASE"', actor=me)
    with pytest.raises(Conflict, match="'Base' is used by 'Also', 'Uses base'"):
        delete_segment(session, name="base", actor=me)
    assert get_segment(session, "Base")


def test_delete_removes_the_segment_and_its_membership(session: Session) -> None:
    me = actor(session)
    make_account(session, external_id="T1", tier=1)
    make_account(session, external_id="T2", tier=1)
    kept = create_segment(session, name="Kept", rule="tier = 1", actor=me)
    doomed = create_segment(session, name="Doomed", rule="tier = 1", actor=me)
    doomed_id = doomed.id
    refresh_segments(session, actor=actor(session))
    delete_segment(session, name="doomed", actor=me)

    def stays(segment_id: int) -> int:
        query = select(func.count()).where(SegmentMembership.segment_id == segment_id)
        return int(session.scalar(query) or 0)

    assert stays(doomed_id) == 0
    assert stays(kept.id) == 2
    assert [s.name for s in list_segments(session)] == ["Kept"]


def test_delete_after_its_user_is_gone(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="Base", rule="tier = 1", actor=me)
    create_segment(session, name="User", rule='in segment "Base"', actor=me)
    delete_segment(session, name="User", actor=me)
    delete_segment(session, name="Base", actor=me)
    assert list_segments(session) == []


# --- audit -----------------------------------------------------------------------------------


def test_every_change_writes_an_audit_event(session: Session) -> None:
    me = actor(session)
    segment = create_segment(session, name="Top", rule="tier = 1", actor=me)
    update_segment(session, name="Top", new_name="Tier one", rule="tier <= 1", actor=me)
    delete_segment(session, name="Tier one", actor=me)
    session.flush()

    (created,) = events(session, "segment.created")
    (updated,) = events(session, "segment.updated")
    (deleted,) = events(session, "segment.deleted")
    for event in (created, updated, deleted):
        assert (event.actor_id, event.subject_type) == (me.id, "segment")
        assert event.subject_key == str(segment.id)
    assert created.details == {"name": "Top", "rule": "tier = 1"}
    assert updated.details == {
        "before": {"name": "Top", "rule": "tier = 1"},
        "after": {"name": "Tier one", "rule": "tier <= 1"},
    }
    assert deleted.details == {"name": "Tier one", "rule": "tier <= 1"}


def test_refused_changes_write_no_audit_event(session: Session) -> None:
    me = actor(session)
    create_segment(session, name="Top", rule="tier = 1", actor=me)
    create_segment(session, name="User", rule='in segment "Top"', actor=me)
    with pytest.raises(Conflict):
        delete_segment(session, name="Top", actor=me)
    with pytest.raises(InvalidRule):
        update_segment(session, name="Top", rule='in segment "User"', actor=me)
    session.flush()
    assert events(session, "segment.deleted") == events(session, "segment.updated") == []


# --- the Custify recipe, literally -----------------------------------------------------------


@dataclass
class Hierarchy:
    """Accounts by external id; Michael owns P1 (so M and G by inheritance), C2 and L."""

    michael: User
    dwight: User


def custify_hierarchy(session: Session) -> Hierarchy:
    """P1 → M → G (inheriting), P1 → OWN (Dwight's), P2 (Dwight's) → C2 (Michael's), L alone."""
    michael = make_user(session, MICHAEL, name="Michael Scott")
    dwight = make_user(session, "dwight@example.com", name="Dwight Schrute")
    p1 = make_account(session, "Parent one", external_id="P1")
    middle = make_account(session, "Middle", external_id="M", parent=p1, inherit_policy="inherit")
    make_account(session, "Grandchild", external_id="G", parent=middle, inherit_policy="inherit")
    make_account(session, "Own child", external_id="OWN", parent=p1, inherit_policy="own")
    p2 = make_account(session, "Parent two", external_id="P2")
    make_account(session, "Child two", external_id="C2", parent=p2, inherit_policy="own")
    make_account(session, "Lone", external_id="L")
    assign(session, ["P1", "C2", "L"], michael)
    assign(session, ["P2", "OWN"], dwight)
    return Hierarchy(michael, dwight)


def test_custify_recipe_works_literally(session: Session) -> None:
    custify_hierarchy(session)
    assert matching(session, f'csm = "{MICHAEL}"') == {"P1", "M", "G", "C2", "L"}
    me = actor(session)
    create_segment(
        session,
        name="Michael's parent companies",
        rule=f'csm is "{MICHAEL}" and company level is 1',
        actor=me,
    )
    children = create_segment(
        session,
        name="Michael's children companies",
        rule="company level is 0 and parent company is in segment "
        "\u201cmichael\u2019s parent companies\u201d",
        actor=me,
    )
    assert children.rule_text == (
        'company level = 0 and parent in segment "Michael\'s parent companies"'
    )
    assert in_segment(session, "michael’s parent companies") == {"P1", "M"}
    expected = {"M", "G", "OWN"}
    assert in_segment(session, "Michael's children companies") == expected
    assert listed_members(session, "michael\u2019s CHILDREN companies") == expected
    assert matching(session, f'is_child and parent.csm = "{MICHAEL}"') == expected
    assert check_rule(session, 'in segment "Michael\u2019s children companies"').matches == 3


def test_ancestor_in_segment_reaches_grandchildren(session: Session) -> None:
    custify_hierarchy(session)
    me = actor(session)
    create_segment(session, name="Group one", rule='external_id = "P1"', actor=me)
    assert matching(session, 'ancestor in segment "group one"') == {"M", "G", "OWN"}
    assert matching(session, 'parent in segment "group one"') == {"M", "OWN"}
    assert matching(session, 'not ancestor in segment "group one"') == {"P1", "P2", "C2", "L"}
    create_segment(session, name="Michael's accounts", rule=f'csm = "{MICHAEL}"', actor=me)
    # C2 is Michael's, but its parent is Dwight's: no ancestor of it is in the segment.
    assert matching(session, 'ancestor in segment "michael\'s accounts"') == {"M", "G", "OWN"}


def test_users_named_by_full_name_are_stored_by_email(session: Session) -> None:
    """A unique name is accepted; stored as typed, a namesake added later would break it."""
    custify_hierarchy(session)
    rule = 'csm = "michael  SCOTT" or parent.csm in ("Michael Scott", "DWIGHT@example.com")'
    segment = create_segment(session, name="Michael's", rule=rule, actor=actor(session))
    assert segment.rule_text == (
        'csm = "michael@example.com" or parent.csm in ("michael@example.com", "dwight@example.com")'
    )
    members = in_segment(session, "Michael's")
    assert members == {"P1", "M", "G", "OWN", "C2", "L"}
    make_user(session, "michael.scott@example.com", name="Michael Scott")
    assert in_segment(session, "Michael's") == members
    assert [r.members for r in refresh_segments(session, actor=actor(session))] == [len(members)]
    with pytest.raises(InvalidRule, match="several users"):
        update_segment(
            session, name="Michael's", rule='csm = "Michael Scott"', actor=actor(session)
        )
