"""Assign, unassign and transfer: outcomes, several CSMs, previews, fingerprints, history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.assignments.filters import OwnershipFilter
from bookwise.assignments.predicates import account_ids
from bookwise.assignments.selection import MAX_EXPLICIT_IDS, AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.errors import Conflict, InvalidInput, RequestTooLarge
from bookwise.models import Account, Assignment, Operation
from tests.factories import actor, make_account, make_accounts, make_user
from tests.helpers import chain_violations, open_csms, table_counts


def outcomes(result) -> list[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    return [(i.ref, i.user, i.outcome) for i in result.items]


def test_assign_reports_each_id_in_request_order(session: Session) -> None:
    me = actor(session)
    x = make_user(session, "x@example.com")
    parent = make_account(session, external_id="P")
    make_account(session, external_id="C", parent=parent, inherit_policy="inherit")
    owned = make_account(session, external_id="O")
    assign_accounts(session, selection=AccountRefs(["O"]), csms=[x], actor=me)

    result = assign_accounts(
        session, selection=AccountRefs(["missing", "O", "P", "C", "P"]), csms=[x], actor=me
    )

    assert outcomes(result) == [
        ("missing", "x@example.com", "not_found"),
        ("O", "x@example.com", "already_assigned"),
        ("P", "x@example.com", "assigned"),
        # C inherits, and follows P in the same operation: it is not refused.
        ("C", "x@example.com", "assigned"),
        ("P", "x@example.com", "assigned"),
    ]
    assert result.counts == {"not_found": 1, "already_assigned": 1, "assigned": 3}
    assert open_csms(session, owned) == {"x@example.com"}
    # the inheriting child got the parent's CSM through propagation, not directly
    assert result.opened == 1
    assert result.inherited_opened == 1


def test_assign_to_several_csms_adds_and_never_replaces(session: Session) -> None:
    me = actor(session)
    x, y, z = (make_user(session, f"{n}@example.com") for n in "xyz")
    account = make_account(session, external_id="A")
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[z], actor=me)

    result = assign_accounts(session, selection=AccountRefs(["A"]), csms=[y, x], actor=me)

    assert outcomes(result) == [
        ("A", "y@example.com", "assigned"),
        ("A", "x@example.com", "assigned"),
    ]
    assert open_csms(session, account) == {"x@example.com", "y@example.com", "z@example.com"}


def test_inactive_and_seatless_users_are_refused_with_a_message(session: Session) -> None:
    me = actor(session)
    gone = make_user(session, "gone@example.com", active=False)
    seatless = make_user(session, "noseat@example.com", seat=False)
    ok = make_user(session, "ok@example.com")
    account = make_account(session, external_id="A")

    result = assign_accounts(
        session, selection=AccountRefs(["A", "nope"]), csms=[gone, seatless, ok], actor=me
    )

    assert outcomes(result) == [
        ("A", "gone@example.com", "refused_inactive"),
        ("A", "noseat@example.com", "refused_no_seat"),
        ("A", "ok@example.com", "assigned"),
        ("nope", "gone@example.com", "not_found"),
        ("nope", "noseat@example.com", "not_found"),
        ("nope", "ok@example.com", "not_found"),
    ]
    assert open_csms(session, account) == {"ok@example.com"}
    assert any("gone@example.com is inactive" in m for m in result.messages)
    assert any("noseat@example.com has no CSM seat" in m for m in result.messages)


def test_refs_resolve_external_id_first_then_numeric_id(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    by_id = make_account(session, external_id="E1")
    numeric_external = make_account(session, external_id=str(by_id.id))
    result = assign_accounts(
        session, selection=AccountRefs([str(by_id.id), by_id.id]), csms=[x], actor=me
    )
    assert [i.account_id for i in result.items] == [numeric_external.id, by_id.id]
    assert [i.ref for i in result.items] == [str(by_id.id), f"#{by_id.id}"]


def test_assign_by_filter_takes_every_match(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    accounts = [make_account(session) for _ in range(5)]
    assign_accounts(session, selection=AccountRefs([accounts[0].id]), csms=[y], actor=me)
    no_one = OwnershipFilter(not_assigned_to=x, who="no-one")
    selection = AccountQuery(ids=account_ids(no_one.conditions()), description=no_one.describe())

    result = assign_accounts(session, selection=selection, csms=[x], actor=me)

    assert result.items is None
    assert result.counts == {"assigned": 4}
    assert [open_csms(session, a) for a in accounts[1:]] == [{x.email}] * 4
    operation = session.get(Operation, result.operation_id)
    assert operation is not None
    assert operation.parameters["filter"] == no_one.describe()


def test_unassign_removes_only_that_csm(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    account = make_account(session, external_id="A")
    other = make_account(session, external_id="B")
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[x, y], actor=me)

    result = unassign_accounts(session, selection=AccountRefs(["A", "B"]), csm=x, actor=me)

    assert outcomes(result) == [("A", x.email, "unassigned"), ("B", x.email, "not_assigned")]
    assert open_csms(session, account) == {y.email}
    assert open_csms(session, other) == set()
    closed = session.scalars(select(Assignment).where(Assignment.user_id == x.id)).one()
    assert closed.ended_at is not None
    assert closed.ended_operation_id == result.operation_id


def test_transfer_whole_book_replaces_x_by_y(session: Session) -> None:
    me = actor(session)
    x, y, z = make_user(session), make_user(session), make_user(session)
    a, b, c = make_account(session), make_account(session), make_account(session)
    assign_accounts(session, selection=AccountRefs([a.id, b.id]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs([b.id]), csms=[y], actor=me)
    assign_accounts(session, selection=AccountRefs([c.id]), csms=[z], actor=me)

    result = transfer_accounts(session, from_csm=x, to_csm=y, actor=me)

    assert result.counts == {"transferred": 2}
    assert open_csms(session, a) == {y.email}
    assert open_csms(session, b) == {y.email}  # y already owned b: x's row simply ended
    assert open_csms(session, c) == {z.email}
    assert result.opened == 1
    assert result.closed == 2


def test_transfer_part_of_a_book_by_refs(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    a, b = make_account(session, external_id="A"), make_account(session, external_id="B")
    assign_accounts(session, selection=AccountRefs(["A", "B"]), csms=[x], actor=me)

    result = transfer_accounts(
        session, from_csm=x, to_csm=y, actor=me, selection=AccountRefs(["B", "Z"])
    )

    assert outcomes(result) == [("B", y.email, "transferred"), ("Z", y.email, "not_found")]
    assert open_csms(session, a) == {x.email}
    assert open_csms(session, b) == {y.email}


def test_transfer_keeps_the_primary_mark(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    a = make_account(session)
    assign_accounts(session, selection=AccountRefs([a.id]), csms=[x], actor=me)
    row = session.scalars(select(Assignment).where(Assignment.account_id == a.id)).one()
    row.is_primary = True
    session.flush()
    transfer_accounts(session, from_csm=x, to_csm=y, actor=me)
    current = session.scalars(
        select(Assignment).where(Assignment.account_id == a.id, Assignment.ended_at.is_(None))
    ).one()
    assert current.user_id == y.id
    assert current.is_primary


def test_transfer_to_an_inactive_user_is_refused_and_changes_nothing(session: Session) -> None:
    me = actor(session)
    x, gone = make_user(session), make_user(session, active=False)
    a = make_account(session, external_id="A")
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    result = transfer_accounts(
        session, from_csm=x, to_csm=gone, actor=me, selection=AccountRefs(["A"])
    )
    assert outcomes(result) == [("A", gone.email, "refused_inactive")]
    assert result.operation_id is None
    assert open_csms(session, a) == {x.email}


def test_transfer_to_the_same_user_is_an_error(session: Session) -> None:
    x = make_user(session)
    with pytest.raises(InvalidInput, match="same user"):
        transfer_accounts(session, from_csm=x, to_csm=x, actor=actor(session))


def test_dry_run_reports_exactly_and_writes_nothing(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    parent = make_account(session, external_id="P")
    make_account(session, parent=parent, inherit_policy="inherit")
    make_account(session, external_id="Q")
    before = table_counts(session)

    preview = assign_accounts(
        session, selection=AccountRefs(["P", "Q"]), csms=[x], actor=me, dry_run=True
    )

    assert table_counts(session) == before
    assert preview.dry_run
    assert preview.operation_id is None
    assert preview.accounts_changed == 3
    assert {(r.external_id, r.action, r.source) for r in preview.sample} >= {
        ("P", "open", "manual"),
        ("Q", "open", "manual"),
    }
    applied = assign_accounts(
        session,
        selection=AccountRefs(["P", "Q"]),
        csms=[x],
        actor=me,
        expected_fingerprint=preview.fingerprint,
    )
    assert applied.fingerprint == preview.fingerprint
    assert applied.accounts_changed == 3
    assert applied.items == preview.items


@pytest.mark.parametrize("meanwhile", ["rosa", "emma"])
def test_stale_fingerprint_is_a_conflict_and_nothing_changes(
    session: Session, meanwhile: str
) -> None:
    """Preview assigning two no-one accounts to Rosa; then one of them changes owners.

    Rosa taking it herself changes the change set; Emma taking it leaves Rosa's change set as
    it was (she still lacks both), but applying would make the account co-owned, which the
    preview did not show: the account's state is part of the fingerprint.
    """
    me = actor(session)
    users = {"rosa": make_user(session), "emma": make_user(session)}
    make_account(session, external_id="A")
    make_account(session, external_id="B")
    preview = assign_accounts(
        session, selection=AccountRefs(["A", "B"]), csms=[users["rosa"]], actor=me, dry_run=True
    )
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[users[meanwhile]], actor=me)
    before = table_counts(session)
    with pytest.raises(Conflict, match="no longer those previewed"):
        assign_accounts(
            session,
            selection=AccountRefs(["A", "B"]),
            csms=[users["rosa"]],
            actor=me,
            expected_fingerprint=preview.fingerprint,
        )
    # the failed operation rolled back its own savepoint: the caller's transaction is intact
    assert table_counts(session) == before


def test_an_operation_that_changes_nothing_is_not_recorded(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    make_account(session, external_id="A")
    assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    before = table_counts(session)
    again = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    assert again.operation_id is None
    assert table_counts(session) == before


def test_explicit_ids_are_capped_with_a_pointer_to_filters() -> None:
    with pytest.raises(RequestTooLarge, match="filter instead"):
        AccountRefs(list(range(MAX_EXPLICIT_IDS + 1)))


def test_every_change_versions_the_account_once(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    parent = make_account(session, external_id="P")
    make_account(session, parent=parent, inherit_policy="inherit")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    transfer_accounts(session, from_csm=x, to_csm=y, actor=me)
    unassign_accounts(session, selection=AccountRefs(["P"]), csm=y, actor=me)
    assert parent.ownership_version == 3
    assert chain_violations(session) == []


def test_a_filter_reports_the_inheriting_accounts_it_skipped(session: Session) -> None:
    me = actor(session)
    x, gone = make_user(session), make_user(session, active=False)
    parent = make_account(session, external_id="P")
    make_account(session, parent=parent, inherit_policy="inherit")
    make_account(session, parent=parent, inherit_policy="inherit")
    everyone = AccountQuery(ids=account_ids([]), description="all accounts")

    result = assign_accounts(session, selection=everyone, csms=[x, gone], actor=me)

    # The children follow P in the same operation: nothing of theirs is refused.
    assert result.counts == {"assigned": 1, "refused_inactive": 3}
    assert result.inherited_opened == 2

    children = AccountQuery(
        ids=account_ids([]).where(Account.parent_id.is_not(None)), description="children"
    )
    y = make_user(session)
    result = assign_accounts(session, selection=children, csms=[x, y], actor=me)

    # x already owns them (inherited): nothing would change for x; y would, and is refused.
    assert result.counts == {"assigned": 0, "refused_inherits": 2}


def test_a_transfer_counts_as_refused_only_the_accounts_it_would_have_changed(
    session: Session,
) -> None:
    me = actor(session)
    d, b, x = make_user(session), make_user(session), make_user(session)
    parent = make_account(session, external_id="P")
    make_account(session, parent=parent, inherit_policy="inherit")
    make_account(session, parent=parent, inherit_policy="inherit")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    everyone = AccountQuery(ids=account_ids([]), description="all accounts")

    # d owns nothing: there is nothing to refuse.
    nothing = transfer_accounts(session, from_csm=d, to_csm=b, selection=everyone, actor=me)
    assert nothing.counts == {"transferred": 0}

    # x's family moves whole: the children follow their parent, none is refused.
    moved = transfer_accounts(session, from_csm=x, to_csm=b, selection=everyone, actor=me)
    assert moved.counts == {"transferred": 1}
    assert moved.inherited_closed == 2
    assert moved.inherited_opened == 2

    # The children alone cannot move without their parent: those two are refused.
    children = AccountQuery(
        ids=account_ids([]).where(Account.parent_id.is_not(None)), description="children"
    )
    refused = transfer_accounts(session, from_csm=b, to_csm=x, selection=children, actor=me)
    assert refused.counts == {"transferred": 0, "refused_inherits": 2}


def test_a_preview_of_a_filter_is_stale_once_a_selected_account_changed(
    session: Session,
) -> None:
    me = actor(session)
    rosa, emma = make_user(session), make_user(session)
    make_accounts(session, 3)
    no_one = AccountQuery(ids=account_ids([]), description="all accounts")
    preview = assign_accounts(session, selection=no_one, csms=[rosa], actor=me, dry_run=True)
    unchanged = assign_accounts(session, selection=no_one, csms=[rosa], actor=me, dry_run=True)
    assert unchanged.fingerprint == preview.fingerprint  # nothing changed: the same preview
    first = session.scalars(select(Account.id).order_by(Account.id)).first()
    assign_accounts(session, selection=AccountRefs([f"#{first}"]), csms=[emma], actor=me)

    with pytest.raises(Conflict, match="no longer those previewed"):
        assign_accounts(
            session,
            selection=no_one,
            csms=[rosa],
            actor=me,
            expected_fingerprint=preview.fingerprint,
        )
