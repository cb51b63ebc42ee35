"""Undo restores exactly the previous ownership, as a new operation, or refuses with conflicts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.assignments.inheritance import move_account, set_default_policy, set_inherit_policy
from bookwise.assignments.plan import default_policy
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.errors import Conflict, NotFound
from bookwise.models import Account, Assignment, Operation
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations, open_csms, ownership_snapshot, table_counts


def test_undo_of_a_transfer_restores_the_exact_previous_owners(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p = make_account(session, external_id="P")
    child = make_account(session, parent=p, inherit_policy="inherit")
    make_account(session, external_id="Q")
    assign_accounts(session, selection=AccountRefs(["P", "Q"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["Q"]), csms=[y], actor=me)
    before = ownership_snapshot(session)
    transfer = transfer_accounts(session, from_csm=x, to_csm=y, actor=me)

    undo = undo_operation(session, operation_id=transfer.operation_id or 0, actor=me)

    assert ownership_snapshot(session) == before
    assert undo.kind == "undo"
    assert undo.accounts_changed == transfer.accounts_changed
    reopened = session.scalars(
        select(Assignment).where(Assignment.operation_id == undo.operation_id)
    ).all()
    assert reopened
    # The child follows P: its re-opened row is inherited, as it was; the undo opened it.
    assert {(r.account_id == child.id, r.source) for r in reopened} == {
        (False, "undo"),
        (True, "inherited"),
    }
    original = session.get(Operation, transfer.operation_id)
    assert original is not None
    assert original.undone_by_id == undo.operation_id
    assert chain_violations(session) == []


def test_undo_refuses_when_a_later_operation_touched_the_same_owner(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    account = make_account(session, external_id="A")
    first = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    later = unassign_accounts(session, selection=AccountRefs(["A"]), csm=x, actor=me)
    before = table_counts(session)

    with pytest.raises(Conflict, match=f"#{later.operation_id} \\(unassign\\)"):
        undo_operation(session, operation_id=first.operation_id or 0, actor=me)
    assert table_counts(session) == before

    # once the later change is undone, the two cancel out and the first can be undone
    undo_operation(session, operation_id=later.operation_id or 0, actor=me)
    assert open_csms(session, account) == {x.email}
    undo_operation(session, operation_id=first.operation_id or 0, actor=me)
    assert open_csms(session, account) == set()


def test_undo_twice_is_refused_and_unknown_ids_are_not_found(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    make_account(session, external_id="A")
    op = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    undo_operation(session, operation_id=op.operation_id or 0, actor=me)
    with pytest.raises(Conflict, match="already undone"):
        undo_operation(session, operation_id=op.operation_id or 0, actor=me)
    with pytest.raises(NotFound):
        undo_operation(session, operation_id=999_999, actor=me)


def test_undo_of_an_undo_redoes(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    a = make_account(session, external_id="A")
    op = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    undo = undo_operation(session, operation_id=op.operation_id or 0, actor=me)
    assert open_csms(session, a) == set()
    undo_operation(session, operation_id=undo.operation_id or 0, actor=me)
    assert open_csms(session, a) == {x.email}


def test_undo_preview_writes_nothing(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    make_account(session, external_id="A")
    op = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    before = table_counts(session)
    preview = undo_operation(session, operation_id=op.operation_id or 0, actor=me, dry_run=True)
    assert preview.closed == 1
    assert preview.dry_run
    assert table_counts(session) == before
    original = session.get(Operation, op.operation_id)
    assert original is not None
    session.refresh(original)
    assert original.undone_by_id is None


def test_undo_of_a_policy_change_restores_policy_and_owners(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p = make_account(session, external_id="P")
    c = make_account(session, external_id="C", parent=p, inherit_policy="own")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["C"]), csms=[y], actor=me)
    op = set_inherit_policy(session, selection=AccountRefs(["C"]), policy="inherit", actor=me)
    assert open_csms(session, c) == {x.email}

    undo_operation(session, operation_id=op.operation_id or 0, actor=me)

    assert session.get(Account, c.id).inherit_policy == "own"  # type: ignore[union-attr]
    assert open_csms(session, c) == {y.email}


def test_undo_of_a_move_puts_the_account_back_under_its_old_parent(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p = make_account(session, external_id="P")
    q = make_account(session, external_id="Q")
    c = make_account(session, external_id="C", parent=p, inherit_policy="inherit")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["Q"]), csms=[y], actor=me)
    op = move_account(session, account=c, parent=q, actor=me)
    undo_operation(session, operation_id=op.operation_id or 0, actor=me)
    assert c.parent_id == p.id
    assert open_csms(session, c) == {x.email}


def test_undo_of_the_default_policy_restores_it(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    p = make_account(session, external_id="P")
    c = make_account(session, parent=p)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    op = set_default_policy(session, policy="inherit", actor=me)
    assert open_csms(session, c) == {x.email}
    undo_operation(session, operation_id=op.operation_id or 0, actor=me)
    assert default_policy(session) == "own"
    assert open_csms(session, c) == set()


def test_undoing_a_policy_switch_back_to_inherit_follows_the_parent_as_it_is_now(
    session: Session,
) -> None:
    """Switch C to own, assign y to P (C no longer follows), undo the switch: C gets y."""
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p = make_account(session, external_id="P")
    c = make_account(session, external_id="C", parent=p, inherit_policy="inherit")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    switch = set_inherit_policy(session, selection=AccountRefs(["C"]), policy="own", actor=me)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[y], actor=me)
    assert open_csms(session, c) == {x.email}
    undo_operation(session, operation_id=switch.operation_id or 0, actor=me)
    assert open_csms(session, c) == {x.email, y.email}
    del p
