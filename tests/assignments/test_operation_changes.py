"""What one operation changed (its opened and closed owners, filtered and paged), the
operations log's filters, and a CSM's book on a date as a page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bookwise.assignments.history import (
    ChangeFilter,
    OperationFilter,
    book_page,
    operation_changes,
    operations_page,
)
from bookwise.assignments.inheritance import set_inherit_policy
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts
from bookwise.dates import today
from bookwise.models import Operation
from tests.factories import actor, make_account, make_family_tree, make_user
from tests.helpers import count_statements


def test_an_operations_changes_are_its_opened_and_closed_owners(session: Session) -> None:
    me = actor(session)
    ana = make_user(session, "ana@example.com", name="Ana Lima")
    bo = make_user(session, "bo@example.com", name="Bo Chen")
    make_account(session, "Zeta Corp", external_id="Z")
    make_account(session, "Acme Inc", external_id="CRM-7")
    make_account(session, "Beta Ltd", external_id="B")
    assign_accounts(session, selection=AccountRefs(["CRM-7", "Z"]), csms=[ana], actor=me)
    moved = transfer_accounts(session, from_csm=ana, to_csm=bo, actor=me)
    op = moved.operation_id or 0

    page = operation_changes(session, operation_id=op)
    assert page.total == 4
    # by account name, then the row id: the closed row is older than the opened one
    assert [(c.account, c.action, c.user_name, c.user) for c in page.items] == [
        ("Acme Inc", "close", "Ana Lima", "ana@example.com"),
        ("Acme Inc", "open", "Bo Chen", "bo@example.com"),
        ("Zeta Corp", "close", "Ana Lima", "ana@example.com"),
        ("Zeta Corp", "open", "Bo Chen", "bo@example.com"),
    ]
    opened = page.items[1]
    assert (opened.external_id, opened.role, opened.source) == ("CRM-7", "csm", "manual")
    assert opened.at.tzinfo is not None

    closing = operation_changes(session, operation_id=op, filters=ChangeFilter(action="close"))
    assert {c.action for c in closing.items} == {"close"}
    assert closing.total == 2
    by_bo = operation_changes(session, operation_id=op, filters=ChangeFilter(owner_id=bo.id))
    assert [c.user for c in by_bo.items] == ["bo@example.com", "bo@example.com"]
    named = operation_changes(session, operation_id=op, filters=ChangeFilter(account="zeta"))
    assert [c.external_id for c in named.items] == ["Z", "Z"]
    by_id = operation_changes(session, operation_id=op, filters=ChangeFilter(account="CRM-7"))
    assert [c.account for c in by_id.items] == ["Acme Inc", "Acme Inc"]
    # a percent sign is text, not a wildcard
    assert operation_changes(session, operation_id=op, filters=ChangeFilter(account="%")).total == 0
    window = operation_changes(session, operation_id=op, sort="-account", limit=1, offset=1)
    assert (window.total, [c.account for c in window.items]) == (4, ["Zeta Corp"])


def test_an_operations_changes_cost_two_statements_at_10_and_1000(session: Session) -> None:
    me = actor(session)
    ana, bo = make_user(session), make_user(session)
    counts = {}
    for size in (10, 1000):
        parents, _ = make_family_tree(session, parents=size, children_each=0, prefix=f"S{size}")
        refs = [p.id for p in parents]
        assign_accounts(session, selection=AccountRefs(refs), csms=[ana], actor=me)
        moved = transfer_accounts(
            session, from_csm=ana, to_csm=bo, actor=me, selection=AccountRefs(refs)
        )
        with count_statements(session.get_bind()) as log:
            page = operation_changes(
                session,
                operation_id=moved.operation_id or 0,
                filters=ChangeFilter(action="open", account="parent"),
                limit=20,
            )
        counts[size] = log.count
        assert page.total == size
        assert len(page.items) == 10 if size == 10 else len(page.items) == 20
        transfer_accounts(session, from_csm=bo, to_csm=ana, actor=me, selection=AccountRefs(refs))
    assert counts[10] == counts[1000] == 2


def test_the_operations_log_filters_by_kind_actor_dates_and_account(session: Session) -> None:
    me = actor(session)
    lead = make_user(session, "lead@example.com", name="Lead")
    ana, bo = make_user(session), make_user(session)
    make_account(session, external_id="A")
    b = make_account(session, external_id="B")
    first = assign_accounts(session, selection=AccountRefs(["A"]), csms=[ana], actor=me)
    second = assign_accounts(session, selection=AccountRefs(["B"]), csms=[ana], actor=lead)
    third = transfer_accounts(session, from_csm=ana, to_csm=bo, actor=lead)
    policy = set_inherit_policy(session, selection=AccountRefs(["B"]), policy="own", actor=me)
    session.execute(
        update(Operation)
        .where(Operation.id == first.operation_id)
        .values(created_at=datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    )

    def ids(**filters: object) -> list[int]:
        page = operations_page(session, filters=OperationFilter(**filters))  # type: ignore[arg-type]
        assert page.total == len(page.items)
        return [o.id for o in page.items]

    assert ids(kind="assign") == [second.operation_id, first.operation_id]
    assert ids(actor_id=lead.id) == [third.operation_id, second.operation_id]
    assert ids(since=date(2026, 1, 10), until=date(2026, 1, 10)) == [first.operation_id]
    assert ids(until=date(2026, 1, 9)) == []
    assert first.operation_id not in ids(since=today() - timedelta(days=1))
    # the account's owners changed in the assign and the transfer; its policy in set_policy
    assert ids(account_id=b.id) == [
        policy.operation_id,
        third.operation_id,
        second.operation_id,
    ]
    shown = operations_page(session, limit=1).items[0]
    assert (shown.actor, shown.actor_name) == ("cli@bookwise.invalid", me.name)


def test_a_book_on_a_day_is_a_page_by_account_name(session: Session) -> None:
    me = actor(session)
    ana = make_user(session)
    make_account(session, "Zeta", external_id="Z")
    make_account(session, "Acme", external_id="A")
    assign_accounts(session, selection=AccountRefs(["Z", "A"]), csms=[ana], actor=me)
    page = book_page(session, user=ana, day=today(), limit=1)
    assert (page.total, [r.account for r in page.items]) == (2, ["Acme"])
    assert book_page(session, user=ana, day=date(2000, 1, 1)).total == 0
