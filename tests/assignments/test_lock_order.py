"""On PostgreSQL an operation locks its targets and their inheriting descendants in one
ascending statement (``plan.lock_targets``): two operations can then never hold each other's
rows. Locked in two passes (targets, then descendants), they deadlocked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, Select, literal, select
from sqlalchemy.orm import Session

from bookwise.assignments import plan
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import is_sqlite, read_session, run_write, write_session
from bookwise.models import Account, User
from tests.assignments.test_concurrency import wait_for_lock_waiter
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations, open_csms


def targets_only(ctx: OperationContext, ids: Select[Any]) -> tuple[list[str], Select[Any]]:
    """The lock as it was: the selected accounts only; descendants locked in a second pass."""
    rows = (
        select(literal(ctx.op_id), Account.id)
        .where(Account.id.in_(ids))
        .order_by(Account.id)
        .with_for_update(of=Account)
    )
    return ["operation_id", "account_id"], rows


def assign(account_ids: list[int], csm_id: int, attempts: Counter[str], name: str) -> Any:
    def work(session: Session) -> object:
        attempts[name] += 1
        csm = session.get(User, csm_id)
        assert csm is not None
        refs = AccountRefs([f"#{n}" for n in account_ids])
        return assign_accounts(session, selection=refs, csms=[csm], actor=actor(session))

    return work


@pytest.mark.parametrize("lock", ["one statement", "two passes"])
def test_two_operations_over_crossed_families_do_not_deadlock(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, lock: str
) -> None:
    """One assigns A and E, the other B and D, where D follows A and E follows B.

    A third session holds E, so the first operation waits there; the second then runs up
    to its own wait. In two passes the second holds D (its target) and waits for E (B's
    follower), and once E is free the first waits for D (A's follower): a deadlock, which
    PostgreSQL breaks by failing one (run_write retries it). In one statement the first
    holds D before it waits for E, and the second waits for D before it holds anything the
    first needs.
    """
    if is_sqlite(engine):
        pytest.skip("SQLite admits one writer at a time: no row locks to order")
    with write_session(engine) as session:
        x, y = make_user(session).id, make_user(session).id
        a = make_account(session, external_id="A")
        d = make_account(session, external_id="D", parent=a, inherit_policy="inherit")
        b = make_account(session, external_id="B")
        e = make_account(session, external_id="E", parent=b, inherit_policy="inherit")
        ids = {n.external_id: n.id for n in (a, d, b, e)}
    assert ids["D"] < ids["E"]
    if lock == "two passes":
        monkeypatch.setattr(plan, "target_rows", targets_only)
    attempts = Counter[str]()
    first: Callable[[Session], Any] = assign([ids["A"], ids["E"]], x, attempts, "first")
    second: Callable[[Session], Any] = assign([ids["B"], ids["D"]], y, attempts, "second")

    with ThreadPoolExecutor(2) as background:
        with write_session(engine) as held:
            held.execute(select(Account.id).where(Account.id == ids["E"]).with_for_update())
            one = background.submit(run_write, engine, first)
            wait_for_lock_waiter(engine, count=1, unless=one)
            two = background.submit(run_write, engine, second)
            wait_for_lock_waiter(engine, count=2, unless=two)
        one.result()
        two.result()

    retried = attempts["first"] + attempts["second"] - 2
    if lock == "one statement":
        assert retried == 0, attempts
    else:
        assert retried > 0, "no deadlock in two passes: the test has no teeth"
    with read_session(engine) as session:
        accounts = {ref: session.get(Account, n) for ref, n in ids.items()}
        emails = {n: session.get(User, n).email for n in (x, y)}  # type: ignore[union-attr]
        assert open_csms(session, accounts["D"]) == {emails[x]}  # follows A
        assert open_csms(session, accounts["E"]) == {emails[y]}  # follows B
        assert chain_violations(session) == []
