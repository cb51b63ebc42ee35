"""Property test: random operation sequences agree with a tiny reference model.

The model keeps, per account, its parent, its policy and its set of CSMs, and applies the
rules of docs/concepts.md ("Inheritance") directly (inheriting accounts copy their parent's
CSMs, top-down). After every step the database must hold exactly the model's owners, and every
account's version chain must be gap-free.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import Engine, select

from bookwise.assignments.inheritance import move_account, set_inherit_policy
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.db import read_session, write_session
from bookwise.errors import Refused
from bookwise.models import Account, Assignment, User
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations

ACCOUNTS = 7
USERS = 3
_runs = itertools.count()


class OwnershipMachine(RuleBasedStateMachine):
    """Drives the real services and the model side by side."""

    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        run = next(_runs)
        self.parent: dict[int, int | None] = {}
        self.policy: dict[int, str | None] = {}
        self.owners: dict[int, set[int]] = {}
        self.last: tuple[int, Any] | None = None
        with write_session(self.engine) as session:
            self.users = [make_user(session, f"m{run}-{i}@example.com").id for i in range(USERS)]
            ids: list[int] = []
            for i in range(ACCOUNTS):
                # a small forest: 0 and 1 are roots; the rest hang below earlier accounts
                parent_id = None if i < 2 else ids[(i - 1) // 2]
                parent = session.get(Account, parent_id) if parent_id else None
                policy = "inherit" if i % 3 else None
                account = make_account(
                    session, external_id=f"M{run}-{i}", parent=parent, inherit_policy=policy
                )
                ids.append(account.id)
                self.parent[account.id] = parent_id
                self.policy[account.id] = policy
                self.owners[account.id] = set()
        self.accounts = ids

    # --- the model ---------------------------------------------------------------------

    def inherits(self, account: int) -> bool:
        return self.parent[account] is not None and self.policy[account] == "inherit"

    def depth(self, account: int) -> int:
        parent = self.parent[account]
        return 0 if parent is None else 1 + self.depth(parent)

    def reconcile(self) -> None:
        for account in sorted(self.accounts, key=self.depth):
            parent = self.parent[account]
            if parent is not None and self.inherits(account):
                self.owners[account] = set(self.owners[parent])

    def below(self, account: int) -> set[int]:
        found = {a for a in self.accounts if self.parent[a] == account}
        for child in list(found):
            found |= self.below(child)
        return found

    def snapshot(self) -> tuple[Any, ...]:
        return (
            dict(self.parent),
            dict(self.policy),
            {a: set(o) for a, o in self.owners.items()},
        )

    def restore(self, state: tuple[Any, ...]) -> None:
        self.parent, self.policy, self.owners = state

    def run(self, work: Any) -> Any:
        with write_session(self.engine) as session:
            me = actor(session)
            return work(session, me)

    # --- rules -------------------------------------------------------------------------

    subsets = st.lists(st.integers(0, ACCOUNTS - 1), min_size=1, max_size=4, unique=True)

    @rule(picks=subsets, who=st.integers(0, USERS - 1))
    def assign(self, picks: list[int], who: int) -> None:
        before = self.snapshot()
        ids = [self.accounts[i] for i in picks]
        result = self.run(
            lambda s, me: assign_accounts(
                s, selection=AccountRefs(ids), csms=[s.get_one(User, self.users[who])], actor=me
            )
        )
        for account in ids:
            if not self.inherits(account):
                self.owners[account].add(self.users[who])
        self.reconcile()
        self.last = (result.operation_id, before) if result.operation_id else None

    @rule(picks=subsets, who=st.integers(0, USERS - 1))
    def unassign(self, picks: list[int], who: int) -> None:
        before = self.snapshot()
        ids = [self.accounts[i] for i in picks]
        result = self.run(
            lambda s, me: unassign_accounts(
                s, selection=AccountRefs(ids), csm=s.get_one(User, self.users[who]), actor=me
            )
        )
        for account in ids:
            if not self.inherits(account):
                self.owners[account].discard(self.users[who])
        self.reconcile()
        self.last = (result.operation_id, before) if result.operation_id else None

    @rule(picks=st.none() | subsets, source=st.integers(0, USERS - 1), step=st.integers(1, 2))
    def transfer(self, picks: list[int] | None, source: int, step: int) -> None:
        before = self.snapshot()
        x, y = self.users[source], self.users[(source + step) % USERS]
        ids = None if picks is None else [self.accounts[i] for i in picks]
        result = self.run(
            lambda s, me: transfer_accounts(
                s,
                from_csm=s.get_one(User, x),
                to_csm=s.get_one(User, y),
                actor=me,
                selection=None if ids is None else AccountRefs(ids),
            )
        )
        for account in self.accounts if ids is None else ids:
            if not self.inherits(account) and x in self.owners[account]:
                self.owners[account].discard(x)
                self.owners[account].add(y)
        self.reconcile()
        self.last = (result.operation_id, before) if result.operation_id else None

    @rule(picks=subsets, policy=st.sampled_from(["inherit", "own", None]))
    def set_policy(self, picks: list[int], policy: str | None) -> None:
        before = self.snapshot()
        ids = [self.accounts[i] for i in picks]
        result = self.run(
            lambda s, me: set_inherit_policy(
                s,
                selection=AccountRefs(ids),
                policy=policy,  # type: ignore[arg-type]
                actor=me,
            )
        )
        for account in ids:
            self.policy[account] = policy
        self.reconcile()
        self.last = (result.operation_id, before) if result.operation_id else None

    @rule(pick=st.integers(0, ACCOUNTS - 1), new_parent=st.none() | st.integers(0, ACCOUNTS - 1))
    def move(self, pick: int, new_parent: int | None) -> None:
        before = self.snapshot()
        account = self.accounts[pick]
        parent = None if new_parent is None else self.accounts[new_parent]

        def work(s: Any, me: Any) -> Any:
            return move_account(
                s,
                account=s.get_one(Account, account),
                parent=None if parent is None else s.get_one(Account, parent),
                actor=me,
            )

        if parent is not None and (parent == account or parent in self.below(account)):
            with pytest.raises(Refused):
                self.run(work)
            return
        result = self.run(work)
        self.parent[account] = parent
        self.reconcile()
        self.last = (result.operation_id, before) if result.operation_id else None

    @precondition(lambda self: self.last is not None)
    @rule()
    def undo_last(self) -> None:
        assert self.last is not None
        operation_id, before = self.last
        self.run(lambda s, me: undo_operation(s, operation_id=operation_id, actor=me))
        self.restore(before)
        self.last = None

    # --- invariants --------------------------------------------------------------------

    @invariant()
    def database_matches_model(self) -> None:
        with read_session(self.engine) as session:
            rows = session.execute(
                select(Assignment.account_id, Assignment.user_id).where(
                    Assignment.account_id.in_(self.accounts), Assignment.ended_at.is_(None)
                )
            ).all()
            stored: dict[int, set[int]] = {a: set() for a in self.accounts}
            for account_id, user_id in rows:
                stored[account_id].add(user_id)
            assert stored == self.owners
            tree = dict(
                session.execute(
                    select(Account.id, Account.parent_id).where(Account.id.in_(self.accounts))
                ).all()
            )
            assert tree == self.parent
            assert chain_violations(session) == []


def test_operations_agree_with_the_reference_model(engine: Engine) -> None:
    OwnershipMachine.engine = engine
    machine = OwnershipMachine.TestCase
    machine.settings = settings(
        max_examples=12,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine().runTest()
