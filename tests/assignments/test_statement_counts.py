"""Every bulk path and listing is a fixed number of SQL statements, whatever the size.

Each scenario runs once over 10 accounts and once over 1,000 (parents with inheriting
children, so propagation is exercised) and must send exactly as many statements both times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bookwise.assignments.filters import OwnershipFilter
from bookwise.assignments.history import account_history, book_on
from bookwise.assignments.inheritance import (
    move_account,
    reconcile_inheritance,
    set_default_policy,
    set_inherit_policy,
)
from bookwise.assignments.listing import count_accounts, list_accounts
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.overview import csm_overview
from bookwise.assignments.predicates import account_ids
from bookwise.assignments.selection import AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.dates import today
from bookwise.db import write_session
from bookwise.models import Account, Setting, User
from tests.factories import actor, make_family_tree, make_user
from tests.helpers import count_statements


@dataclass
class Scenario:
    """A family tree with two CSMs; ``x`` owns every parent (children inherit)."""

    parents: list[int]
    children: list[int]
    prefix: str
    x: User
    y: User
    me: User
    assigned: int


def build(session: Session, size: int, prefix: str) -> Scenario:
    parents, children = make_family_tree(session, parents=size // 5, children_each=4, prefix=prefix)
    x = make_user(session, f"x-{prefix}@example.com")
    y = make_user(session, f"y-{prefix}@example.com")
    me = actor(session)
    parent_ids, child_ids = [p.id for p in parents], [c.id for c in children]
    op = assign_accounts(session, selection=AccountRefs(parent_ids), csms=[x], actor=me)
    return Scenario(parent_ids, child_ids, prefix, x, y, me, op.operation_id or 0)


def refs(ids: list[int]) -> AccountRefs:
    return AccountRefs(ids)


def not_assigned(s: Scenario) -> AccountQuery:
    where = OwnershipFilter(not_assigned_to=s.y, who="all").conditions()
    where.append(Account.external_id.like(f"{s.prefix}%"))
    return AccountQuery(ids=account_ids(where), description="test")


Action = Callable[[Session, Scenario], object]

ACTIONS: dict[str, Action] = {
    "assign refs": lambda s, c: assign_accounts(
        s, selection=refs(c.parents), csms=[c.y], actor=c.me
    ),
    "assign refs preview": lambda s, c: assign_accounts(
        s, selection=refs(c.parents), csms=[c.y], actor=c.me, dry_run=True
    ),
    "assign filter": lambda s, c: assign_accounts(
        s, selection=not_assigned(c), csms=[c.y], actor=c.me
    ),
    "unassign refs": lambda s, c: unassign_accounts(
        s, selection=refs(c.parents), csm=c.x, actor=c.me
    ),
    "transfer book": lambda s, c: transfer_accounts(s, from_csm=c.x, to_csm=c.y, actor=c.me),
    "transfer refs": lambda s, c: transfer_accounts(
        s, from_csm=c.x, to_csm=c.y, actor=c.me, selection=refs(c.parents)
    ),
    "set policy": lambda s, c: set_inherit_policy(
        s, selection=refs(c.children), policy="own", actor=c.me
    ),
    "move subtree": lambda s, c: move_account(
        s,
        account=s.get_one(Account, c.parents[0]),
        parent=s.get_one(Account, c.parents[1]),
        actor=c.me,
    ),
    "reconcile": lambda s, c: reconcile_inheritance(s, actor=c.me),
    "default policy": lambda s, c: set_default_policy(s, policy="inherit", actor=c.me),
    "undo assign": lambda s, c: undo_operation(s, operation_id=c.assigned, actor=c.me),
    "deactivate": lambda s, c: deactivate_user(s, user=c.x, actor=c.me, transfer_to=c.y),
    "list page": lambda s, c: list_accounts(
        s, where=OwnershipFilter(not_assigned_to=c.y, who="others").conditions(), sort="-mrr"
    ),
    "count no-one": lambda s, c: count_accounts(
        s, where=OwnershipFilter(not_assigned_to=c.x, who="no-one").conditions()
    ),
    "overview": lambda s, c: csm_overview(s),
    "book on date": lambda s, c: book_on(s, user=c.x, day=today()),
    "account history page": lambda s, c: account_history(
        s, account=s.get_one(Account, c.parents[0]), limit=10
    ),
}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_statement_count_does_not_grow_with_accounts(engine: Engine, name: str) -> None:
    action = ACTIONS[name]
    counts = {}
    for size, prefix in ((10, "S"), (1000, "L")):
        with write_session(engine) as session:
            scenario = build(session, size, prefix)
        with write_session(engine) as session:
            scenario = Scenario(
                scenario.parents,
                scenario.children,
                scenario.prefix,
                session.merge(scenario.x),
                session.merge(scenario.y),
                session.merge(scenario.me),
                scenario.assigned,
            )
            with count_statements(engine) as log:
                action(session, scenario)
            counts[size] = log.count
        with write_session(engine) as session:
            # put back what an action changed installation-wide
            session.query(User).filter(User.email.like("x-%")).update({"active": True})
            session.query(Setting).update({"value": "own"})
    assert counts[10] == counts[1000], f"{name}: {counts}"
    assert counts[10] <= 40, f"{name}: {counts[10]} statements"
