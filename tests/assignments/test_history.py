"""Who owned this account on date D, and why; a CSM's book on a date; operations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from bookwise.assignments.history import (
    account_history,
    account_timeline,
    book_on,
    list_operations,
    owners_on,
)
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.config import get_settings
from bookwise.dates import today
from bookwise.models import Assignment
from tests.factories import actor, make_account, make_user
from tests.helpers import count_statements


def backdate(session: Session, operation_id: int | None, moment: datetime) -> None:
    """Pretend an operation happened at ``moment`` (as imported past ownership will)."""
    session.execute(
        update(Assignment).where(Assignment.operation_id == operation_id).values(started_at=moment)
    )
    session.execute(
        update(Assignment)
        .where(Assignment.ended_operation_id == operation_id)
        .values(ended_at=moment)
    )


def test_timeline_owners_on_a_date_and_books_on_a_date(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session, "x@example.com"), make_user(session, "y@example.com")
    account = make_account(session, external_id="A")
    first = assign_accounts(
        session, selection=AccountRefs(["A"]), csms=[x], actor=me, reason="kick-off"
    )
    moved = transfer_accounts(session, from_csm=x, to_csm=y, actor=me, reason="rebalance")
    backdate(session, first.operation_id, datetime(2026, 1, 10, 15, 0, tzinfo=UTC))
    backdate(session, moved.operation_id, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))

    timeline = account_timeline(session, account=account)
    assert [(r.user, r.source, r.reason, r.actor) for r in timeline] == [
        ("x@example.com", "manual", "kick-off", "cli@bookwise.invalid"),
        ("y@example.com", "manual", "rebalance", "cli@bookwise.invalid"),
    ]
    assert timeline[0].ended_operation_id == moved.operation_id

    assert owners_on(session, account=account, day=date(2026, 1, 9)) == []
    # "on date D" means at the end of D: the 10 January assignment counts on the 10th
    assert [r.user for r in owners_on(session, account=account, day=date(2026, 1, 10))] == [
        "x@example.com"
    ]
    assert [r.user for r in owners_on(session, account=account, day=date(2026, 3, 1))] == [
        "y@example.com"
    ]
    assert [r.external_id for r in book_on(session, user=x, day=date(2026, 2, 1))] == ["A"]
    assert book_on(session, user=x, day=date(2026, 3, 2)) == []


def test_end_of_day_follows_the_installation_time_zone(session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    me = actor(session)
    x = make_user(session)
    account = make_account(session, external_id="A")
    op = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    # 23:30 UTC on 10 January is already 11 January in Tokyo
    backdate(session, op.operation_id, datetime(2026, 1, 10, 23, 30, tzinfo=UTC))
    monkeypatch.setenv("BOOKWISE_TIMEZONE", "Asia/Tokyo")
    get_settings.cache_clear()
    try:
        assert owners_on(session, account=account, day=date(2026, 1, 10)) == []
        assert len(owners_on(session, account=account, day=date(2026, 1, 11))) == 1
    finally:
        monkeypatch.delenv("BOOKWISE_TIMEZONE")
        get_settings.cache_clear()
    assert len(owners_on(session, account=account, day=date(2026, 1, 10))) == 1


def test_operations_are_listed_newest_first_with_actor_and_counts(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    make_account(session, external_id="A")
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    transfer_accounts(session, from_csm=x, to_csm=y, actor=me)
    ops = list_operations(session)
    assert [(o.kind, o.actor, o.accounts_changed) for o in ops] == [
        ("transfer", "cli@bookwise.invalid", 1),
        ("assign", "cli@bookwise.invalid", 1),
    ]
    assert ops[0].counts == {"transferred": 1}
    assert ops[0].parameters["to"] == y.email


def test_account_history_is_paged_in_sql_in_two_statements(session: Session) -> None:
    """The page is cut by LIMIT/OFFSET in the query and the total is one COUNT: the same two
    statements for 4 rows of history as for 40 (it used to read every row and slice them)."""
    me = actor(session)
    x, y = make_user(session, "x@example.com"), make_user(session, "y@example.com")
    counts = {}
    for rounds, ref in ((2, "SMALL"), (20, "LARGE")):
        account = make_account(session, external_id=ref)
        for _ in range(rounds):
            assign_accounts(session, selection=AccountRefs([ref]), csms=[x], actor=me)
            transfer_accounts(session, from_csm=x, to_csm=y, actor=me, selection=AccountRefs([ref]))
            unassign_accounts(session, selection=AccountRefs([ref]), csm=y, actor=me)
        assert account.id  # loaded before counting: the operations expired it
        with count_statements(session.get_bind()) as log:
            page = account_history(session, account=account, limit=3, offset=1)
        counts[rounds] = log.count
        assert page.total == 2 * rounds
        assert (page.limit, page.offset) == (3, 1)
        assert [r.user for r in page.items] == ["y@example.com", "x@example.com", "y@example.com"]
        assert "LIMIT" in log.statements[0]
        everything = account_timeline(session, account=account)
        assert page.items == everything[1:4]
    assert counts[2] == counts[20] == 2


def test_account_history_on_a_day_pages_the_owners_then(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session, "x@example.com"), make_user(session, "y@example.com")
    account = make_account(session, external_id="A")
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[x, y], actor=me)
    page = account_history(session, account=account, on=today(), limit=1)
    assert page.total == 2
    assert [r.user for r in page.items] == ["x@example.com"]
    assert account_history(session, account=account, on=date(2000, 1, 1)).total == 0
