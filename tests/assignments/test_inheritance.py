"""Children follow their parent's CSMs: propagation, policies, re-parenting, the default."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.assignments.inheritance import (
    apply_inheritance,
    move_account,
    reconcile_inheritance,
    set_default_policy,
    set_inherit_policy,
)
from bookwise.assignments.plan import default_policy
from bookwise.assignments.propagation import _walk_from_sources
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.errors import Refused
from bookwise.models import Account, Assignment
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations, open_csms


def family(session: Session):  # type: ignore[no-untyped-def]
    """P → C (inherit) → G (inherit), P → O (own)."""
    p = make_account(session, external_id="P")
    c = make_account(session, external_id="C", parent=p, inherit_policy="inherit")
    g = make_account(session, external_id="G", parent=c, inherit_policy="inherit")
    o = make_account(session, external_id="O", parent=p, inherit_policy="own")
    return p, c, g, o


def test_assigning_a_parent_reaches_every_inheriting_descendant(session: Session) -> None:
    me = actor(session)
    x = make_user(session, "x@example.com")
    p, c, g, o = family(session)

    result = assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)

    assert [open_csms(session, a) for a in (p, c, g, o)] == [{x.email}, {x.email}, {x.email}, set()]
    assert result.inherited_opened == 2
    sources = set(
        session.scalars(select(Assignment.source).where(Assignment.account_id.in_([c.id, g.id])))
    )
    assert sources == {"inherited"}


def test_unassign_and_transfer_on_the_parent_propagate(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p, c, g, _ = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    transfer_accounts(session, from_csm=x, to_csm=y, actor=me)
    assert [open_csms(session, a) for a in (p, c, g)] == [{y.email}] * 3
    unassign_accounts(session, selection=AccountRefs(["P"]), csm=y, actor=me)
    assert [open_csms(session, a) for a in (p, c, g)] == [set()] * 3
    assert chain_violations(session) == []


def test_transfer_of_a_book_skips_inherited_rows_and_propagates_instead(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p, c, g, _ = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    result = transfer_accounts(session, from_csm=x, to_csm=y, actor=me)
    assert result.counts == {"transferred": 1}
    assert result.inherited_closed == 2
    assert result.inherited_opened == 2
    assert [open_csms(session, a) for a in (p, c, g)] == [{y.email}] * 3


def test_roles_that_are_not_inheritable_may_be_set_on_an_inheriting_account(
    session: Session,
) -> None:
    me = actor(session)
    am = make_user(session)
    add_role(session, name="account_manager", inheritable=False, description="", actor=me)
    _, c, _, _ = family(session)
    result = assign_accounts(
        session, selection=AccountRefs(["C"]), csms=[am], actor=me, role="account_manager"
    )
    assert [i.outcome for i in result.items or []] == ["assigned"]
    assert open_csms(session, c, role="account_manager") == {am.email}


def test_switching_to_inherit_replaces_owners_and_history_keeps_them(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p, _, _, o = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["O"]), csms=[y], actor=me)

    result = set_inherit_policy(session, selection=AccountRefs(["O"]), policy="inherit", actor=me)

    assert result.policies_changed == 1
    assert open_csms(session, o) == {x.email}
    ended = session.scalars(
        select(Assignment).where(Assignment.account_id == o.id, Assignment.user_id == y.id)
    ).one()
    assert ended.ended_operation_id == result.operation_id
    del p


def test_switching_to_own_keeps_the_current_csms(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    _, c, g, _ = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    result = set_inherit_policy(session, selection=AccountRefs(["C"]), policy="own", actor=me)
    assert result.accounts_changed == 0
    assert result.policies_changed == 1
    assert open_csms(session, c) == {x.email}
    assert open_csms(session, g) == {x.email}
    # C now owns: a direct change is accepted, and G (still inheriting) follows C
    y = make_user(session)
    assign_accounts(session, selection=AccountRefs(["C"]), csms=[y], actor=me)
    assert open_csms(session, g) == {x.email, y.email}


def test_direct_change_on_an_inheriting_account_is_refused(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    family(session)
    # x owns nothing: there is nothing to refuse.
    result = unassign_accounts(session, selection=AccountRefs(["C"]), csm=x, actor=me)
    assert [i.outcome for i in result.items or []] == ["not_assigned"]
    # x owns C through its parent: removing x from C alone is refused.
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    result = unassign_accounts(session, selection=AccountRefs(["C"]), csm=x, actor=me)
    assert [i.outcome for i in result.items or []] == ["refused_inherits"]
    # Named beside its parent, C follows it.
    result = unassign_accounts(session, selection=AccountRefs(["C", "P"]), csm=x, actor=me)
    assert [(i.outcome, i.follows_parent) for i in result.items or []] == [
        ("unassigned", True),
        ("unassigned", False),
    ]


def test_reparenting_reapplies_the_policy_to_the_moved_subtree(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p, c, g, _ = family(session)
    q = make_account(session, external_id="Q")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["Q"]), csms=[y], actor=me)

    move_account(session, account=c, parent=q, actor=me)

    assert open_csms(session, c) == {y.email}
    assert open_csms(session, g) == {y.email}
    assert (c.depth, g.depth) == (1, 2)
    move_account(session, account=c, parent=None, actor=me)
    assert (c.depth, g.depth) == (0, 1)
    # a top-level account has nothing to inherit: it keeps what it had, as its own
    assert open_csms(session, c) == {y.email}
    del p


def test_reparenting_into_a_cycle_is_refused(session: Session) -> None:
    me = actor(session)
    p, _, g, _ = family(session)
    with pytest.raises(Refused, match="cycle"):
        move_account(session, account=p, parent=g, actor=me)
    with pytest.raises(Refused, match="own parent"):
        move_account(session, account=p, parent=p, actor=me)


def test_a_new_child_inherits_when_inheritance_is_applied(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    p, _, _, _ = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    child = make_account(session, parent=p, inherit_policy="inherit")
    apply_inheritance(session, roots=select(Account.id).where(Account.id == child.id), actor=me)
    assert open_csms(session, child) == {x.email}


def test_inactive_owners_are_not_copied_to_children(session: Session) -> None:
    me = actor(session)
    x, leaving = make_user(session), make_user(session)
    p, c, _, _ = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x, leaving], actor=me)
    unassign_accounts(session, selection=AccountRefs(["P"]), csm=x, actor=me)
    leaving.active = False
    session.flush()
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    child = make_account(session, parent=p, inherit_policy="inherit")
    apply_inheritance(session, roots=select(Account.id).where(Account.id == child.id), actor=me)
    assert open_csms(session, child) == {x.email}
    assert open_csms(session, c) == {x.email, leaving.email}  # kept rows stay until changed


def test_the_default_policy_is_an_operation_that_reconciles_everyone(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    p = make_account(session, external_id="P")
    c = make_account(session, parent=p)  # no policy of its own: follows the default
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    assert open_csms(session, c) == set()

    preview = set_default_policy(session, policy="inherit", actor=me, dry_run=True)
    assert preview.inherited_opened == 1
    assert default_policy(session) == "own"
    result = set_default_policy(session, policy="inherit", actor=me)
    assert default_policy(session) == "inherit"
    assert open_csms(session, c) == {x.email}
    assert result.operation_id is not None


def test_reconcile_repairs_inheriting_accounts_everywhere(session: Session) -> None:
    me = actor(session)
    x, y = make_user(session), make_user(session)
    p, c, g, _ = family(session)
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[x], actor=me)
    # an import (say) set C's owners directly, behind inheritance's back
    session.get(Account, c.id).inherit_policy = "own"  # type: ignore[union-attr]
    session.flush()
    assign_accounts(session, selection=AccountRefs(["C"]), csms=[y], actor=me)
    session.get(Account, c.id).inherit_policy = "inherit"  # type: ignore[union-attr]
    session.flush()

    preview = reconcile_inheritance(session, actor=me, dry_run=True)
    assert preview.inherited_closed == 2  # y on C and on G
    reconcile_inheritance(session, actor=me)
    assert [open_csms(session, a) for a in (p, c, g)] == [{x.email}] * 3
    assert reconcile_inheritance(session, actor=me).accounts_changed == 0


def test_a_deep_chain_is_walked_once_per_account(session: Session) -> None:
    """Setting a whole chain to inherit finds each account's source in linear work.

    The walk yields each account of the chain once; climbing from every root to the top (as
    it once did) gave depth × (depth + 1) / 2 rows, 12.5 million for 5,000 levels.
    """
    me = actor(session)
    x, y = make_user(session), make_user(session)
    chain = [make_account(session, external_id="L0")]
    for n in range(1, 40):
        chain.append(make_account(session, external_id=f"L{n}", parent=chain[-1]))
    assign_accounts(session, selection=AccountRefs(["L0"]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(["L20"]), csms=[y], actor=me)
    below_top = [f"L{n}" for n in range(1, 40) if n != 20]
    set_inherit_policy(session, selection=AccountRefs(below_top), policy="inherit", actor=me)

    assert open_csms(session, chain[19]) == {x.email}
    assert open_csms(session, chain[20]) == {y.email}  # owns: the accounts below follow it
    assert open_csms(session, chain[39]) == {y.email}
    roots = select(Account.id).where(Account.id.in_([a.id for a in chain]))
    walk = _walk_from_sources("own", roots)
    rows = session.execute(select(func.count(), func.count(func.distinct(walk.c.account_id)))).one()
    assert tuple(rows) == (40, 40)
