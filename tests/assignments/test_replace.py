"""Setting the exact owner set of many accounts (an import's owner column)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.orm import Session

from bookwise.assignments.replace import replace_owners
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.models import Account, Assignment
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations, open_csms, ownership_snapshot


def pairs(*rows: tuple[int, int]) -> Select[Any]:
    """A Select of (account_id, user_id) literal rows."""
    return (
        union_all(
            *[select(literal(a).label("account_id"), literal(u).label("user_id")) for a, u in rows]
        )
        .subquery()
        .select()
    )


def test_owners_become_exactly_the_wanted_set_and_undo_restores(session: Session) -> None:
    me = actor(session)
    x, y, z = make_user(session), make_user(session), make_user(session)
    a = make_account(session, external_id="A")
    b = make_account(session, external_id="B")
    child = make_account(session, parent=a, inherit_policy="inherit")
    untouched = make_account(session, external_id="U")
    assign_accounts(session, selection=AccountRefs(["A", "B", "U"]), csms=[x], actor=me)
    before = ownership_snapshot(session)

    result = replace_owners(
        session,
        accounts=select(Account.id).where(Account.id.in_([a.id, b.id])),
        wanted=pairs((a.id, y.id), (a.id, z.id), (b.id, x.id)),
        actor=me,
    )

    assert result.counts == {"opened": 2, "closed": 1}
    assert open_csms(session, a) == {y.email, z.email}
    assert open_csms(session, child) == {y.email, z.email}
    assert open_csms(session, b) == {x.email}
    assert open_csms(session, untouched) == {x.email}
    sources = set(
        session.scalars(
            select(Assignment.source).where(Assignment.operation_id == result.operation_id)
        )
    )
    assert sources == {"import", "inherited"}
    undo_operation(session, operation_id=result.operation_id or 0, actor=me)
    assert ownership_snapshot(session) == before
    assert chain_violations(session) == []


def test_inheriting_accounts_and_ineligible_users_are_refused(session: Session) -> None:
    me = actor(session)
    x = make_user(session)
    gone = make_user(session, active=False)
    seatless = make_user(session, seat=False)
    parent = make_account(session)
    child = make_account(session, parent=parent, inherit_policy="inherit")
    result = replace_owners(
        session,
        accounts=select(Account.id).where(Account.id.in_([parent.id, child.id])),
        wanted=pairs(
            (parent.id, x.id), (parent.id, gone.id), (parent.id, seatless.id), (child.id, gone.id)
        ),
        actor=me,
    )
    assert result.counts == {
        "opened": 1,
        "closed": 0,
        "refused_inactive": 2,
        "refused_no_seat": 1,
        "refused_inherits": 1,
    }
    assert open_csms(session, child) == {x.email}  # follows the parent, not the file


def test_an_inheriting_account_whose_cell_names_what_it_inherits_is_not_refused(
    session: Session,
) -> None:
    """Refused only where the import would have changed it, as for assign and transfer."""
    me = actor(session)
    x, y = make_user(session), make_user(session)
    parent = make_account(session)
    same = make_account(session, parent=parent, inherit_policy="inherit")
    other = make_account(session, parent=parent, inherit_policy="inherit")
    replace_owners(
        session,
        accounts=select(Account.id).where(Account.id == parent.id),
        wanted=pairs((parent.id, x.id)),
        actor=me,
    )
    result = replace_owners(
        session,
        accounts=select(Account.id).where(Account.id.in_([same.id, other.id])),
        wanted=pairs((same.id, x.id), (other.id, y.id)),
        actor=me,
    )
    assert result.counts == {"opened": 0, "closed": 0, "refused_inherits": 1}
