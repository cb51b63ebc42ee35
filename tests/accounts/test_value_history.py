"""Value history: written by create, edit and set-parent; read as of an instant and by triggers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bookwise.accounts.history import (
    current_changes,
    record_value_changes,
    value_changes,
    value_history,
    values_as_of,
)
from bookwise.accounts.service import update_account
from bookwise.assignments.inheritance import move_account
from bookwise.assignments.undo import undo_operation
from bookwise.models import Account, AccountValue, Operation, utcnow
from tests.factories import actor, make_account


def _rows(session: Session, account: Account) -> list[tuple[Any, ...]]:
    query = (
        select(
            AccountValue.field,
            AccountValue.value,
            AccountValue.previous,
            AccountValue.source,
            AccountValue.valid_to.is_(None),
        )
        .where(AccountValue.account_id == account.id)
        .order_by(AccountValue.id)
    )
    return [tuple(row) for row in session.execute(query)]


def test_create_starts_the_history_with_the_values_it_has(session: Session) -> None:
    account = make_account(session, "Acme", mrr="1200.50", health_score=80, region="EMEA")

    assert _rows(session, account) == [
        ("mrr", "120050", None, "create", True),
        ("health_score", "80", None, "create", True),
        ("region", "EMEA", None, "create", True),
    ]
    first = session.scalar(select(AccountValue.valid_from).where(AccountValue.field == "mrr"))
    assert first == account.created_at


def test_an_edit_writes_only_the_fields_that_changed_with_the_value_before(
    session: Session,
) -> None:
    me = actor(session)
    account = make_account(session, "Acme", health_score=80, tier=2, region="EMEA")
    before = len(_rows(session, account))

    update_account(
        session,
        account=account,
        changes={"health_score": "35", "tier": "2", "name": "Acme Corp", "region": ""},
        actor=me,
    )

    new = _rows(session, account)[before:]
    assert new == [
        ("health_score", "35", "80", "edit", True),
        ("region", None, "EMEA", "edit", True),
    ]
    assert ("health_score", "80", None, "create", False) in _rows(session, account)


def test_nothing_is_written_when_no_history_field_changes(session: Session) -> None:
    me = actor(session)
    account = make_account(session, "Acme", health_score=80, renewal_date="2027-01-31")
    before = _rows(session, account)

    update_account(session, account=account, changes={"health_score": "80"}, actor=me)
    update_account(session, account=account, changes={"renewal_date": "2027-01-31"}, actor=me)
    update_account(
        session, account=account, changes={"name": "Renamed", "domain": "a.io"}, actor=me
    )

    assert _rows(session, account) == before


def test_a_move_and_its_undo_record_the_parent_with_their_operations(session: Session) -> None:
    me = actor(session)
    parent = make_account(session, "Parent")
    child = make_account(session, "Child")

    moved = move_account(session, account=child, parent=parent, actor=me)
    assert moved.operation_id is not None
    undone = undo_operation(session, operation_id=moved.operation_id, actor=me)

    rows = session.execute(
        select(
            AccountValue.value,
            AccountValue.previous,
            AccountValue.source,
            AccountValue.operation_id,
        )
        .where(AccountValue.account_id == child.id, AccountValue.field == "parent_id")
        .order_by(AccountValue.id)
    ).all()
    assert [tuple(r) for r in rows] == [
        (str(parent.id), None, "move", moved.operation_id),
        (None, str(parent.id), "undo", undone.operation_id),
    ]


def test_a_move_stamps_the_parent_with_its_operations_clock(session: Session) -> None:
    """One clock: the move's history row starts at the operation's time (the database's
    clock on PostgreSQL), not at this process's."""
    parent = make_account(session, "Parent")
    child = make_account(session, "Child")

    moved = move_account(session, account=child, parent=parent, actor=actor(session))

    operation = session.get_one(Operation, moved.operation_id)
    started = session.scalars(
        select(AccountValue.valid_from).where(
            AccountValue.account_id == child.id, AccountValue.field == "parent_id"
        )
    ).one()
    assert started == operation.created_at


def test_a_write_whose_clock_is_behind_the_history_never_inverts_a_period(
    session: Session,
) -> None:
    account = make_account(session, "Skewed", health_score=50)
    ahead = utcnow() + timedelta(minutes=5)
    _set(session, account.id, "health_score", 60, ahead)

    _set(session, account.id, "health_score", 70, ahead - timedelta(minutes=10))

    rows = session.execute(
        select(
            AccountValue.value,
            AccountValue.previous,
            AccountValue.valid_from,
            AccountValue.valid_to,
        )
        .where(AccountValue.account_id == account.id, AccountValue.field == "health_score")
        .order_by(AccountValue.id)
    ).all()
    assert [(r.value, r.previous) for r in rows] == [("50", None), ("60", "50"), ("70", "50")]
    assert rows[1].valid_from == rows[1].valid_to == rows[2].valid_from == ahead
    assert rows[2].valid_to is None


def test_a_preview_of_a_move_writes_no_history(session: Session) -> None:
    parent = make_account(session, "Parent")
    child = make_account(session, "Child")

    move_account(session, account=child, parent=parent, actor=actor(session), dry_run=True)

    assert _rows(session, child) == []


def _set(session: Session, account_id: int, field: str, value: Any, at: datetime) -> None:
    session.execute(update(Account).where(Account.id == account_id).values({field: value}))
    record_value_changes(
        session,
        accounts=select(Account.id).where(Account.id == account_id),
        actor_id=None,
        source="edit",
        now=at,
    )


def test_triggers_ask_for_the_previous_value_and_when_it_changed(session: Session) -> None:
    dropping = make_account(session, "Dropping", health_score=55)
    steady = make_account(session, "Steady", health_score=30)
    start = utcnow() + timedelta(days=1)
    _set(session, dropping.id, "health_score", 38, start)
    _set(session, steady.id, "health_score", 20, start)

    dropped = select(value_changes("health_score", since=start).subquery("c"))
    rows = session.execute(dropped.where(dropped.selected_columns.previous >= 40)).all()
    assert [(r.account_id, r.value, r.previous) for r in rows] == [(dropping.id, 38, 55)]
    current = {r.account_id: r for r in session.execute(current_changes("health_score"))}
    assert (current[dropping.id].previous, current[dropping.id].changed_at) == (55, start)
    assert [r.field for r in session.execute(value_history(dropping.id))] == ["health_score"] * 2


# --- as of an instant, against a model in Python ----------------------------------------

T0 = datetime(2030, 1, 1, tzinfo=UTC)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "health_score": st.one_of(st.none(), st.integers(0, 100)),
    "mrr": st.one_of(st.none(), st.integers(0, 10**12)),
    "region": st.one_of(st.none(), st.sampled_from(["EMEA", "APAC", "Amér"])),
    "renewal_date": st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2040, 1, 1))),
}
CHANGES = st.lists(
    st.tuples(
        st.integers(0, 2),  # which account
        st.sampled_from(sorted(FIELD_VALUES)).flatmap(
            lambda f: st.tuples(st.just(f), FIELD_VALUES[f])
        ),
        st.integers(0, 5),  # days after the previous change
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=CHANGES)
def test_values_as_of_equal_a_replay_of_the_changes(
    session: Session, changes: list[tuple[int, tuple[str, Any], int]]
) -> None:
    accounts = [make_account(session) for _ in range(3)]
    for a in accounts:  # created "at" T0, so every probe below is after creation
        session.execute(update(Account).where(Account.id == a.id).values(created_at=T0))
    log: list[tuple[datetime, int, str, Any]] = []
    at = T0
    for index, (field, value), days in changes:
        at = at + timedelta(days=days, seconds=1)
        _set(session, accounts[index].id, field, value, at)
        log.append((at, index, field, value))

    for probe in [T0 + timedelta(days=d, hours=12) for d in range(0, 3 * len(changes) + 2)]:
        expected: dict[int, dict[str, Any]] = {i: {} for i in range(3)}
        for moment, index, field, value in log:
            if moment < probe:
                expected[index][field] = value
        held = values_as_of(probe).subquery("held_then")
        query = select(held).where(held.c.account_id.in_([a.id for a in accounts]))
        got = {r.account_id: r for r in session.execute(query)}
        for i, a in enumerate(accounts):
            for field in FIELD_VALUES:
                assert getattr(got[a.id], field) == expected[i].get(field), (probe, field)
