"""Deactivating a CSM who owns accounts: their rows move role by role, previewed and undoable."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.errors import Conflict
from bookwise.models import Assignment, User
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations, open_csms, ownership_snapshot, table_counts


def _roles(session: Session, user: User) -> set[tuple[str, str]]:
    """(account external id, role) of every open row the user holds."""
    from bookwise.models import Account

    rows = session.execute(
        select(Account.external_id, Assignment.role)
        .join(Account, Account.id == Assignment.account_id)
        .where(Assignment.user_id == user.id, Assignment.ended_at.is_(None))
    ).all()
    return {(str(ref), str(role)) for ref, role in rows}


def test_deactivation_replaces_exactly_the_rows_the_user_held_role_by_role(
    session: Session,
) -> None:
    me = actor(session)
    a, b, c = make_user(session), make_user(session), make_user(session)
    add_role(session, name="account_manager", actor=me)
    acme = make_account(session, external_id="ACME")
    child = make_account(session, external_id="ACME-1", parent=acme, inherit_policy="inherit")
    make_account(session, external_id="BETA")
    assign_accounts(session, selection=AccountRefs(["ACME"]), csms=[c], actor=me)
    assign_accounts(
        session, selection=AccountRefs(["ACME"]), csms=[a], actor=me, role="account_manager"
    )
    assign_accounts(session, selection=AccountRefs(["BETA"]), csms=[a], actor=me)

    deactivate_user(session, user=a, actor=me, transfer_to=b)

    assert _roles(session, b) == {("ACME", "account_manager"), ("BETA", "csm")}
    assert open_csms(session, acme) == {c.email}
    assert open_csms(session, child) == {c.email}  # the child still follows c only
    assert _roles(session, a) == set()
    assert a.active is False
    assert chain_violations(session) == []


def test_deactivating_a_user_with_two_roles_on_one_account(session: Session) -> None:
    me = actor(session)
    a, b = make_user(session), make_user(session)
    add_role(session, name="account_manager", actor=me)
    acme = make_account(session, external_id="ACME")
    make_account(session, external_id="ACME-1", parent=acme, inherit_policy="inherit")
    assign_accounts(session, selection=AccountRefs(["ACME"]), csms=[a], actor=me)
    assign_accounts(
        session, selection=AccountRefs(["ACME"]), csms=[a], actor=me, role="account_manager"
    )

    result = deactivate_user(session, user=a, actor=me, transfer_to=b)

    assert result is not None
    assert result.operation_id is not None
    assert _roles(session, b) == {("ACME", "csm"), ("ACME", "account_manager"), ("ACME-1", "csm")}
    assert _roles(session, a) == set()
    assert chain_violations(session) == []


def test_a_deactivation_preview_writes_nothing_and_its_fingerprint_guards_the_apply(
    session: Session,
) -> None:
    me = actor(session)
    a, b, c = make_user(session), make_user(session), make_user(session)
    make_account(session, external_id="ACME")
    make_account(session, external_id="BETA")
    assign_accounts(session, selection=AccountRefs(["ACME", "BETA"]), csms=[a], actor=me)
    before = table_counts(session)

    preview = deactivate_user(session, user=a, actor=me, transfer_to=b, dry_run=True)

    assert preview is not None
    assert preview.dry_run
    assert preview.operation_id is None
    assert preview.closed == 2
    assert preview.opened == 2
    assert table_counts(session) == before
    assert a.active is True
    # Someone adds a co-owner to one of a's accounts: the preview no longer holds.
    assign_accounts(session, selection=AccountRefs(["ACME"]), csms=[c], actor=me)
    with pytest.raises(Conflict, match="no longer those previewed"):
        deactivate_user(
            session, user=a, actor=me, transfer_to=b, expected_fingerprint=preview.fingerprint
        )
    session.refresh(a)
    assert a.active is True


def test_a_deactivation_is_undone_like_any_operation(session: Session) -> None:
    me = actor(session)
    a, b = make_user(session), make_user(session)
    acme = make_account(session, external_id="ACME")
    make_account(session, external_id="ACME-1", parent=acme, inherit_policy="inherit")
    assign_accounts(session, selection=AccountRefs(["ACME"]), csms=[a], actor=me)
    before = ownership_snapshot(session)

    result = deactivate_user(session, user=a, actor=me, transfer_to=b)
    assert result is not None
    assert result.operation_id is not None
    undo_operation(session, operation_id=result.operation_id, actor=me)

    assert ownership_snapshot(session) == before
    assert chain_violations(session) == []
