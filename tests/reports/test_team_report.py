"""The team report as of a past day, its statement count, its narrowing and its errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bookwise.accounts.history import record_value_changes
from bookwise.assignments.selection import AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.dates import today
from bookwise.errors import BookwiseError
from bookwise.models import Account, AccountValue, Assignment, utcnow
from bookwise.reports.counting import COUNTING_MODES
from bookwise.reports.team import team_report
from tests.factories import actor, make_family_tree, make_user
from tests.helpers import count_statements
from tests.reports.test_counting_modes import build_hierarchy


def _figures(session: Session, **kwargs: Any) -> dict[str, Any]:
    data = team_report(session, **kwargs).model_dump(mode="json")
    data.pop("as_of")
    return data


def _move_history_back(session: Session, days: int) -> None:
    """Everything written so far happened ``days`` ago (the same instant, order kept)."""
    then = utcnow() - timedelta(days=days)
    session.execute(update(Account).values(created_at=then))
    session.execute(update(Assignment).values(started_at=then))
    session.execute(
        update(Assignment).where(Assignment.ended_at.is_not(None)).values(ended_at=then)
    )
    session.execute(update(AccountValue).values(valid_from=then))
    session.execute(
        update(AccountValue).where(AccountValue.valid_to.is_not(None)).values(valid_to=then)
    )


def _set(session: Session, name: str, **values: Any) -> None:
    session.execute(update(Account).where(Account.name == name).values(**values))
    record_value_changes(
        session,
        accounts=select(Account.id).where(Account.name == name),
        actor_id=None,
        source="edit",
        now=utcnow(),
    )


def test_as_of_a_past_day_equals_the_report_of_that_day(session: Session) -> None:
    people = build_hierarchy(session)
    _move_history_back(session, days=10)
    before = {mode: _figures(session, counting=mode) for mode in COUNTING_MODES}

    # Today: values, the hierarchy and owners change.
    me = actor(session)
    parent_id = session.scalar(select(Account.id).where(Account.name == "Parent"))
    _set(session, "Parent", health_score=20, mrr=5)
    _set(session, "Own kid", nps=-100)
    _set(session, "Solo", parent_id=parent_id)
    transfer_accounts(
        session,
        from_csm=people["Cy"],
        to_csm=people["Eve"],
        selection=AccountRefs(["Solo"]),
        actor=me,
    )
    unassign_accounts(session, selection=AccountRefs(["Own kid"]), csm=people["Ana"], actor=me)

    day = today() - timedelta(days=5)
    for mode in COUNTING_MODES:
        assert _figures(session, counting=mode) != before[mode], mode
        assert _figures(session, counting=mode, day=day) == before[mode], mode
    ten_days_ago = today() - timedelta(days=11)
    empty = team_report(session, day=ten_days_ago)
    assert empty.team_accounts == 0
    assert [r.name for r in empty.items] == ["Ana", "Ben", "Cy", "Eve"]  # Dee is inactive


def _book(session: Session, parents: int) -> None:
    """``parents`` families of three (co-owned by two CSMs), set-based."""
    make_family_tree(session, parents=parents, children_each=2, prefix=f"B{parents}-")
    csms = [make_user(session), make_user(session)]
    assign_accounts(
        session,
        selection=AccountQuery(ids=select(Account.id), description="all"),
        csms=csms,
        actor=actor(session),
    )


@pytest.mark.parametrize("mode", list(COUNTING_MODES))
@pytest.mark.parametrize("as_of", [False, True])
def test_the_report_is_a_fixed_number_of_statements(
    engine: Engine, session: Session, mode: str, as_of: bool
) -> None:
    counts = []
    for parents in (4, 334):  # 12 and 1,002 accounts
        _book(session, parents)
        session.flush()
        day = today() if as_of else None
        with count_statements(engine) as log:
            report = team_report(session, counting=mode, day=day, where="tier is empty")
        assert report.team_accounts > 0
        counts.append(log.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 6, counts


def test_a_rule_or_a_segment_narrows_and_is_named(session: Session) -> None:
    build_hierarchy(session)
    report = team_report(session, counting="all", where='name = "Solo"')
    assert report.team_accounts == 1
    assert report.rule == 'name = "Solo"'
    assert {r.name: r.accounts for r in report.items}["Cy"] == 1
    with pytest.raises(BookwiseError, match="not both"):
        team_report(session, where="tier = 1", segment="x")


def test_unknown_modes_and_roles_say_what_there_is(session: Session) -> None:
    with pytest.raises(BookwiseError, match="all, top-level, rollup, split"):
        team_report(session, counting="sum")
    with pytest.raises(BookwiseError, match="configured roles: csm"):
        team_report(session, role="nobody")
