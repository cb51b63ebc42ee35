"""Concurrent writers on the ownership write path, and proof that the guards matter.

The guards: on SQLite every write transaction starts with ``BEGIN IMMEDIATE``
(``bookwise.db._current_begin``); on PostgreSQL every operation locks its accounts in id
order (``bookwise.assignments.plan.lock_accounts``). The race tests (reliability-anchors.md
§6.A: A1/A2 the random race, A3 transfer compare-and-set, A4 no duplicate pairs) run once as
shipped and once with the guard removed, and the second run must break something. The last
tests replay, step by step, interleavings in which an operation waits for another's lock.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, Row, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import bookwise.db
from bookwise.assignments import inheritance, plan
from bookwise.assignments.schemas import OperationResult
from bookwise.assignments.selection import AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.db import is_sqlite, read_session, run_write, write_session
from bookwise.errors import Conflict
from bookwise.models import Account, Assignment, Operation, OwnershipChange, User
from tests.factories import actor, make_account, make_accounts, make_user

THREADS = 32
CSMS = 6
# Each operation costs ~45-65 ms of Python CPU (statement building), so these sizes keep the
# file under ~90 s per database on 2 cores; BOOKWISE_RACE_OPS_PER_THREAD stresses harder.
OPS_PER_THREAD = {"sqlite": 8, "postgresql": 10}
TEETH_OPS_PER_THREAD = {"sqlite": 8, "postgresql": 6}
OPS_OVERRIDE = int(os.environ.get("BOOKWISE_RACE_OPS_PER_THREAD", "0"))
# What a missing guard produces as errors (other errors still fail the guarded run).
GUARD_ERRORS = ("database is locked", "UniqueViolation")
GUARD = pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "unguarded"])

Work = Callable[[Session], OperationResult]


def remove_guard(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    """Take away the database's concurrency guard for the rest of the test."""
    if is_sqlite(engine):
        # A deferred BEGIN, as if bookwise let SQLite upgrade a read transaction to a write.
        monkeypatch.setattr(bookwise.db, "_current_begin", lambda: lambda _write: "BEGIN")
    else:
        # The write path takes its row locks (lock_targets, lock_accounts) only when the
        # database is not SQLite, whose BEGIN IMMEDIATE already admits one writer at a time:
        # answering "SQLite" runs PostgreSQL without a single FOR UPDATE.
        monkeypatch.setattr(plan, "is_sqlite", lambda _bind: True)


# --- the invariant checker ---------------------------------------------------------------


def ownership_violations(engine: Engine, results: Sequence[OperationResult]) -> list[str]:
    """Everything wrong with the ownership tables, given every result reported to a caller."""
    with read_session(engine) as session:
        duplicates = session.execute(
            select(Assignment.account_id, Assignment.user_id, Assignment.role, func.count())
            .where(Assignment.ended_at.is_(None))
            .group_by(Assignment.account_id, Assignment.user_id, Assignment.role)
            .having(func.count() > 1)
        ).all()
        # Plain rows, not ORM objects: they outlive the session that read them.
        rows = session.execute(select(Assignment.__table__)).all()
        changes = session.execute(select(OwnershipChange.__table__)).all()
        accounts = session.execute(select(Account.__table__)).all()
        operation_ids = set(session.scalars(select(Operation.id)))
    violations = [
        f"[duplicate] {count} open rows for (account, user, role) {a, u, r}"
        for a, u, r, count in duplicates
    ]
    violations += _version_gaps(changes, accounts)
    violations += _times_out_of_order(changes)
    violations += _chain_breaks(rows, changes)
    violations += _count_mismatches(rows, changes, results, operation_ids)
    violations += _inheritance_drift(engine, rows, accounts)
    return violations


def _version_gaps(changes: Sequence[Row[Any]], accounts: Sequence[Row[Any]]) -> list[str]:
    versions: dict[int, list[int]] = defaultdict(list)
    for change in changes:
        versions[change.account_id].append(change.version)
    out = []
    for account in accounts:
        chain = sorted(versions[account.id])
        if chain != list(range(1, len(chain) + 1)) or len(chain) != account.ownership_version:
            out.append(
                f"[version] account {account.id}: versions {chain} but ownership_version "
                f"{account.ownership_version}"
            )
    return out


def _times_out_of_order(changes: Sequence[Row[Any]]) -> list[str]:
    """Each account's history must read the same by time as by version (owners on a date)."""
    out = []
    last: dict[int, Row[Any]] = {}
    for change in sorted(changes, key=lambda c: (c.account_id, c.version)):
        before = last.get(change.account_id)
        if before is not None and change.changed_at < before.changed_at:
            out.append(
                f"[time] account {change.account_id}: version {change.version} (op "
                f"{change.operation_id}) at {change.changed_at} is earlier than version "
                f"{before.version} (op {before.operation_id}) at {before.changed_at}"
            )
        last[change.account_id] = change
    return out


def _chain_breaks(rows: Sequence[Row[Any]], changes: Sequence[Row[Any]]) -> list[str]:
    """Replay each account's rows in version order: opened at v(opener), closed at v(closer)."""
    version = {(c.account_id, c.operation_id): c.version for c in changes}
    events: dict[int, dict[int, tuple[list[Row[Any]], list[Row[Any]]]]] = defaultdict(
        lambda: defaultdict(lambda: ([], []))
    )
    out = []
    for row in rows:
        if (row.ended_at is None) != (row.ended_operation_id is None):
            out.append(f"[chain] row {row.id}: ended_at and ended_operation_id disagree")
        opened = version.get((row.account_id, row.operation_id))
        closed = version.get((row.account_id, row.ended_operation_id or 0))
        if opened is None:
            out.append(f"[chain] row {row.id}: opened by op {row.operation_id}, unversioned")
            continue
        events[row.account_id][opened][1].append(row)
        if row.ended_operation_id is None:
            continue
        if closed is None or closed <= opened:
            out.append(
                f"[chain] row {row.id} on account {row.account_id}: opened at version {opened}, "
                f"closed by op {row.ended_operation_id} at version {closed}"
            )
        else:
            events[row.account_id][closed][0].append(row)
    for change in changes:
        if change.version not in events[change.account_id]:
            out.append(
                f"[chain] account {change.account_id} version {change.version} "
                f"(op {change.operation_id}) changed no assignment row"
            )
    for account_id, by_version in events.items():
        out += _replay(account_id, by_version, rows)
    return out


def _replay(
    account_id: int,
    by_version: dict[int, tuple[list[Row[Any]], list[Row[Any]]]],
    rows: Sequence[Row[Any]],
) -> list[str]:
    out = []
    live: dict[int, tuple[int, str]] = {}
    for version in sorted(by_version):
        closes, opens = by_version[version]
        for row in closes:
            if live.pop(row.id, None) is None:
                out.append(
                    f"[chain] account {account_id} v{version}: closed row {row.id}, not open"
                )
        for row in opens:
            if (row.user_id, row.role) in live.values():
                out.append(f"[chain] account {account_id} v{version}: opened {row.user_id} twice")
            live[row.id] = (row.user_id, row.role)
    current = {r.id for r in rows if r.account_id == account_id and r.ended_at is None}
    if set(live) != current:
        out.append(
            f"[chain] account {account_id}: replay ends {sorted(live)}, open {sorted(current)}"
        )
    return out


def _count_mismatches(
    rows: Sequence[Row[Any]],
    changes: Sequence[Row[Any]],
    results: Sequence[OperationResult],
    operation_ids: set[int],
) -> list[str]:
    """What each operation wrote equals what it told its caller (lost updates break this)."""
    written: Counter[int] = Counter(r.operation_id for r in rows)
    written.update(r.ended_operation_id for r in rows if r.ended_operation_id is not None)
    versioned = Counter(c.operation_id for c in changes)
    out, reported = [], set()
    for result in results:
        told = result.opened + result.closed + result.inherited_opened + result.inherited_closed
        op = result.operation_id
        if op is None:
            if told or result.accounts_changed:
                out.append(
                    f"[count] a {result.kind} reported {told} changes without an operation id"
                )
            continue
        if op in reported:
            out.append(f"[count] operation {op} was reported to two callers")
        reported.add(op)
        if written[op] != told:
            out.append(
                f"[count] op {op} ({result.kind}): reported {told} rows, wrote {written[op]}"
            )
        if versioned[op] != result.accounts_changed:
            out.append(
                f"[count] operation {op}: reported {result.accounts_changed} accounts changed, "
                f"versioned {versioned[op]}"
            )
        out += _item_mismatches(result)
    for op in sorted((operation_ids | set(written) | set(versioned)) - reported):
        out.append(f"[count] operation {op} is in the database but no caller was told about it")
    return out


def _item_mismatches(result: OperationResult) -> list[str]:
    if result.items is None:
        return []
    done = {"assign": "assigned", "unassign": "unassigned", "transfer": "transferred"}[result.kind]
    # An inheriting account named beside its parent changes by following it (phase 2).
    items = sum(1 for item in result.items if item.outcome == done and not item.follows_parent)
    expected = result.opened if result.kind == "assign" else result.closed
    if items != expected:
        return [f"[items] op {result.operation_id}: {items} ids {done}, {expected} rows changed"]
    return []


def _inheritance_drift(
    engine: Engine, rows: Sequence[Row[Any]], accounts: Sequence[Row[Any]]
) -> list[str]:
    owners: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.ended_at is None and row.role == "csm":
            owners[row.account_id].add(row.user_id)
    out = [
        f"[inheritance] account {a.id}: {owners[a.id]}, its parent {owners[a.parent_id]}"
        for a in accounts
        if a.parent_id is not None
        and a.inherit_policy == "inherit"
        and owners[a.id] != owners[a.parent_id]
    ]
    with write_session(engine) as session:
        dry = inheritance.reconcile_inheritance(session, actor=actor(session), dry_run=True)
    if dry.accounts_changed:
        out.append(f"[inheritance] reconcile would change {dry.accounts_changed} accounts")
    return out


# --- the random race (A1 on PostgreSQL, A2 on SQLite) --------------------------------------


@dataclass(frozen=True)
class World:
    """Ids shared by the racing threads (ORM objects never cross sessions)."""

    csm_ids: list[int]
    refs: list[str]
    setup: list[OperationResult]


@dataclass
class Race:
    results: list[OperationResult] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    ops: int = 0
    seconds: float = 0.0

    def error_summary(self) -> Counter[str]:
        return Counter(f"{type(e).__name__}: {str(e).splitlines()[0][:80]}" for e in self.errors)


def build_world(engine: Engine, accounts: int = 50) -> World:
    """``accounts`` shared accounts (8 parents, 8 inheriting descendants, one own child)."""
    rng = random.Random(7)
    with write_session(engine) as session:
        csms = [make_user(session) for _ in range(CSMS)]
        parents = [make_account(session, tier=1 + i % 3) for i in range(8)]
        family = [
            make_account(session, parent=p, inherit_policy="inherit", tier=1 + i % 3)
            for i, p in enumerate(parents[:7])
        ]
        family.append(make_account(session, parent=family[0], inherit_policy="inherit"))
        family.append(make_account(session, parent=parents[7], inherit_policy="own"))
        rest = [
            make_account(session, tier=1 + i % 3)
            for i in range(accounts - len(parents) - len(family))
        ]
        everyone = parents + family + rest
        setup = [
            assign_accounts(
                session,
                selection=AccountRefs(
                    [a.external_id or "" for a in everyone if rng.random() < 0.6]
                ),
                csms=[csm],
                actor=actor(session),
            )
            for csm in csms[:3]
        ]
        return World(
            csm_ids=[u.id for u in csms],
            refs=[a.external_id or "" for a in everyone],
            setup=setup,
        )


def random_work(rng: random.Random, world: World) -> Work:
    """One random ownership operation, as a function of the thread's own session."""
    x, y = rng.sample(world.csm_ids, 2)
    refs = AccountRefs(rng.sample(world.refs, rng.randint(1, 4)))
    roll = rng.random()

    def work(session: Session) -> OperationResult:
        me, from_csm, to_csm = actor(session), session.get(User, x), session.get(User, y)
        assert from_csm is not None
        assert to_csm is not None
        if roll < 0.35:
            return assign_accounts(session, selection=refs, csms=[from_csm], actor=me)
        if roll < 0.60:
            return unassign_accounts(session, selection=refs, csm=from_csm, actor=me)
        if roll < 0.90:
            return transfer_accounts(
                session, from_csm=from_csm, to_csm=to_csm, selection=refs, actor=me
            )
        if roll < 0.95:
            return transfer_accounts(session, from_csm=from_csm, to_csm=to_csm, actor=me)
        tier = 1 + int(roll * 1000) % 3
        query = AccountQuery(select(Account.id).where(Account.tier == tier), f"tier is {tier}")
        return transfer_accounts(
            session, from_csm=from_csm, to_csm=to_csm, selection=query, actor=me
        )

    return work


def run_race(engine: Engine, world: World, *, ops_per_thread: int, seed: int) -> Race:
    """``THREADS`` threads, each running ``ops_per_thread`` random operations (one per write)."""
    race = Race(ops=THREADS * ops_per_thread)
    start_line = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        rng = random.Random(f"{seed}-{index}")
        start_line.wait()
        for _ in range(ops_per_thread):
            work = random_work(rng, world)
            try:
                race.results.append(run_write(engine, work))
            except Exception as exc:  # every error is a finding; keep going to count them
                race.errors.append(exc)

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker, i) for i in range(THREADS)]:
            future.result()
    race.seconds = time.perf_counter() - started
    return race


def ops_per_thread(engine: Engine, *, guarded: bool = True) -> int:
    sizes = OPS_PER_THREAD if guarded else TEETH_OPS_PER_THREAD
    return OPS_OVERRIDE or sizes[engine.dialect.name]


def race_figures(engine: Engine, race: Race, violations: list[str]) -> str:
    kinds = Counter(v[1 : v.index("]")] for v in violations)
    return (
        f"{engine.dialect.name}: {race.ops} ops in {race.seconds:.1f}s, "
        f"{len(race.results)} done, {len(race.errors)} errors {dict(race.error_summary())}, "
        f"{len(violations)} violations {dict(kinds)}"
    )


def test_race_keeps_ownership_invariants(engine: Engine) -> None:
    """32 writers on 50 shared accounts: no error, no duplicate, no lost update, no gap."""
    world = build_world(engine)
    race = run_race(engine, world, ops_per_thread=ops_per_thread(engine), seed=1)
    violations = ownership_violations(engine, world.setup + race.results)
    print(race_figures(engine, race, violations))
    assert race.error_summary() == {}
    assert violations == []
    assert len(race.results) == race.ops


def test_race_without_guard_breaks_invariants(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Teeth: the same race with the guard removed must raise errors or break invariants."""
    world = build_world(engine, accounts=30)
    remove_guard(monkeypatch, engine)
    race = run_race(engine, world, ops_per_thread=ops_per_thread(engine, guarded=False), seed=2)
    violations = ownership_violations(engine, world.setup + race.results)
    print(race_figures(engine, race, violations))
    guard_errors = [
        e
        for e in race.errors
        if isinstance(e, DBAPIError) and any(m in repr(e) for m in GUARD_ERRORS)
    ]
    assert violations or guard_errors, "the race kept every invariant without its guard"


# --- one account, one CSM, 32 callers (A4) -------------------------------------------------


def assign_work(account_id: int, csm_id: int) -> Work:
    def work(session: Session) -> OperationResult:
        csm = session.get(User, csm_id)
        assert csm is not None
        refs = AccountRefs([account_id])
        return assign_accounts(session, selection=refs, csms=[csm], actor=actor(session))

    return work


def unassign_work(account_id: int, csm_id: int) -> Work:
    def work(session: Session) -> OperationResult:
        csm = session.get(User, csm_id)
        assert csm is not None
        refs = AccountRefs([account_id])
        return unassign_accounts(session, selection=refs, csm=csm, actor=actor(session))

    return work


def transfer_work(account_id: int | None, from_id: int, to_id: int) -> Work:
    """Transfer one account (or, with None, the whole book) from one CSM to another."""

    def work(session: Session) -> OperationResult:
        from_csm, to_csm = session.get(User, from_id), session.get(User, to_id)
        assert from_csm is not None
        assert to_csm is not None
        refs = AccountRefs([account_id]) if account_id is not None else None
        return transfer_accounts(
            session, from_csm=from_csm, to_csm=to_csm, selection=refs, actor=actor(session)
        )

    return work


def at_once(engine: Engine, works: Sequence[Work]) -> list[OperationResult | Exception]:
    """Start every work in its own thread and transaction at the same moment."""
    start_line = threading.Barrier(len(works))

    def call(work: Work) -> OperationResult | Exception:
        start_line.wait()
        try:
            return run_write(engine, work)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(len(works)) as pool:
        return list(pool.map(call, works))


def outcome_problems(
    name: str, answers: Sequence[OperationResult | Exception], expected: dict[str, int]
) -> list[str]:
    """The answers' single-item outcomes must be exactly ``expected``, with no error."""
    outcomes = Counter(
        a.items[0].outcome for a in answers if isinstance(a, OperationResult) and a.items
    )
    errors = Counter(repr(a)[:90] for a in answers if isinstance(a, Exception))
    if outcomes == expected and not errors:
        return []
    return [f"[outcomes] {name}: {dict(outcomes)}, errors {dict(errors)}"]


def open_owners(engine: Engine, account_id: int) -> set[int]:
    with read_session(engine) as session:
        query = select(Assignment.user_id).where(
            Assignment.account_id == account_id, Assignment.ended_at.is_(None)
        )
        return set(session.scalars(query))


def assert_as_guarded(engine: Engine, name: str, guarded: bool, problems: list[str]) -> None:
    """Guarded: nothing wrong. Unguarded: something must be wrong, or the test has no teeth."""
    print(f"{engine.dialect.name} {name}, guarded={guarded}: {len(problems)} problems")
    if guarded:
        assert problems == []
    else:
        assert problems, f"{name} stayed correct without the guard: the test has no teeth"


@GUARD
def test_same_pair_at_once_assigns_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, guarded: bool
) -> None:
    """32 callers assign the same account to the same CSM: one ``assigned``, 31 ``already``."""
    with write_session(engine) as session:
        csm_id = make_user(session).id
        account_ids = [a.id for a in make_accounts(session, 2)]
    if not guarded:
        remove_guard(monkeypatch, engine)
    problems: list[str] = []
    results: list[OperationResult] = []
    for account_id in account_ids:
        answers = at_once(engine, [assign_work(account_id, csm_id)] * THREADS)
        results += [a for a in answers if isinstance(a, OperationResult)]
        expected = {"assigned": 1, "already_assigned": THREADS - 1}
        problems += outcome_problems(f"account {account_id}", answers, expected)
        if open_owners(engine, account_id) != {csm_id}:
            problems.append(f"[owners] account {account_id}: {open_owners(engine, account_id)}")
    problems += ownership_violations(engine, results)
    assert_as_guarded(engine, "same pair at once", guarded, problems)


# --- transfer compare-and-set (A3) ----------------------------------------------------------


@GUARD
def test_simultaneous_transfers_have_one_winner(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, guarded: bool
) -> None:
    """8 callers transfer A→B_i on the same account at once: one ``transferred``, 7 not."""
    with write_session(engine) as session:
        owner, co_owner = make_user(session), make_user(session)
        targets = [make_user(session).id for _ in range(8)]
        # 20 accounts as in A3; 6 are plenty for the unguarded run to break.
        account_ids = [a.id for a in make_accounts(session, 20 if guarded else 6)]
        me = actor(session)
        results = [
            assign_accounts(session, selection=AccountRefs(account_ids), csms=[owner], actor=me),
            assign_accounts(
                session, selection=AccountRefs(account_ids[::2]), csms=[co_owner], actor=me
            ),
        ]
        owner_id, co_owner_id = owner.id, co_owner.id
    if not guarded:
        remove_guard(monkeypatch, engine)
    problems: list[str] = []
    for position, account_id in enumerate(account_ids):
        answers = at_once(engine, [transfer_work(account_id, owner_id, t) for t in targets])
        results += [a for a in answers if isinstance(a, OperationResult)]
        expected = {"transferred": 1, "not_assigned": len(targets) - 1}
        problems += outcome_problems(f"account {account_id}", answers, expected)
        winners = {t for t, a in zip(targets, answers, strict=True) if _transferred(a)}
        others = {co_owner_id} if position % 2 == 0 else set()
        owners = open_owners(engine, account_id)
        if len(winners) != 1 or owners != winners | others:
            problems.append(f"[owners] account {account_id}: {owners}, winners {winners}")
    problems += ownership_violations(engine, results)
    assert_as_guarded(engine, "simultaneous transfers", guarded, problems)


def _transferred(answer: OperationResult | Exception) -> bool:
    return isinstance(answer, OperationResult) and any(
        item.outcome == "transferred" for item in answer.items or []
    )


# --- an operation that waits for another's lock (scripted interleavings) --------------------


@contextmanager
def holding(engine: Engine, account_id: int) -> Iterator[Session]:
    """A write transaction holding the account (its row lock; on SQLite, the write lock)."""
    with write_session(engine) as session:
        session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
        yield session


def wait_for_lock_waiter(
    engine: Engine, statement: str = "%", *, count: int = 1, unless: Future[Any] | None = None
) -> None:
    """Return once ``count`` sessions wait for a lock in statements LIKE ``statement`` (PG),
    or once ``unless`` is done.

    On SQLite a waiting writer waits in BEGIN IMMEDIATE, before it reads anything, so a pause
    is enough.
    """
    if is_sqlite(engine):
        time.sleep(0.3)
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE :statement"
    )
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.scalar(query, {"statement": statement})
            conn.rollback()  # pg_stat_activity is a snapshot per transaction
            if waiting >= count or (unless is not None and unless.done()):
                return
            time.sleep(0.02)
        activity = conn.execute(
            text(
                "SELECT state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
                "WHERE datname = current_database()"
            )
        ).all()
    raise AssertionError(f"no session waited for a lock in {statement!r}: {activity}")


def test_operation_that_waited_for_a_lock_dates_its_changes_after_it(engine: Engine) -> None:
    """Unassign waits while another caller assigns: the close must not predate the open.

    On PostgreSQL an operation stamped with the time it started, before waiting for its
    locks, would close a row "before" it opened (ck_assignments_period).
    """
    with write_session(engine) as session:
        csm_id = make_user(session).id
        account_id = make_account(session).id
    with ThreadPoolExecutor(1) as background:
        with holding(engine, account_id) as session:
            waiter = background.submit(run_write, engine, unassign_work(account_id, csm_id))
            wait_for_lock_waiter(engine)
            assigned = assign_work(account_id, csm_id)(session)
        unassigned = waiter.result()
    assert unassigned.items is not None
    assert unassigned.items[0].outcome == "unassigned"
    assert ownership_violations(engine, [assigned, unassigned]) == []


def test_undo_sees_a_later_change_by_an_operation_that_started_earlier(engine: Engine) -> None:
    """Undo must refuse when a later-committed operation touched the same owner.

    On PostgreSQL operation ids follow start order, not commit order, so a conflict check
    that compares ids (or runs before the locks) misses the waiting operation's change.
    """
    with write_session(engine) as session:
        csm_id = make_user(session).id
        account_id = make_account(session).id
    run_write(engine, assign_work(account_id, csm_id))
    with ThreadPoolExecutor(1) as background:
        with holding(engine, account_id) as session:
            waiter = background.submit(run_write, engine, assign_work(account_id, csm_id))
            wait_for_lock_waiter(engine)
            unassigned = unassign_work(account_id, csm_id)(session)
        reassigned = waiter.result()
    assert reassigned.items is not None
    assert reassigned.items[0].outcome == "assigned"
    assert unassigned.operation_id is not None
    target = unassigned.operation_id
    with pytest.raises(Conflict):
        run_write(engine, lambda s: undo_operation(s, operation_id=target, actor=actor(s)))


def test_book_transfer_changes_only_accounts_it_locked(engine: Engine) -> None:
    """An account that joins X's book while "transfer X's whole book" waits must be locked too.

    The transfer may leave the joining account alone (it locked the book as it was) or lock
    it, but it must not close X's row there unlocked: a concurrent unassign closes the same
    row, and the transfer would report a close it never made (a lost update).
    """
    if is_sqlite(engine):
        pytest.skip("SQLite runs one writer at a time: the book cannot change under a transfer")
    with write_session(engine) as session:
        x_id, y_id = make_user(session).id, make_user(session).id
        held_id, joining_id = make_account(session).id, make_account(session).id
    results = [run_write(engine, assign_work(held_id, x_id))]
    with ThreadPoolExecutor(2) as background, ExitStack() as held, ExitStack() as joining:
        held.enter_context(holding(engine, held_id))
        joining.enter_context(holding(engine, joining_id))
        # X's assignment to the joining account starts first (so the dates stay in order)…
        join = background.submit(run_write, engine, assign_work(joining_id, x_id))
        wait_for_lock_waiter(engine, count=1)
        # …then the transfer reads X's book ({held}) and waits for it.
        transfer = background.submit(run_write, engine, transfer_work(None, x_id, y_id))
        wait_for_lock_waiter(engine, count=2)
        joining.close()
        results.append(join.result())
        with write_session(engine) as remover:
            results.append(unassign_work(joining_id, x_id)(remover))
            held.close()
            # A transfer that strays onto the joining account waits here for the remover.
            wait_for_lock_waiter(engine, "UPDATE assignments%", unless=transfer)
        moved = transfer.result()
    results.append(moved)
    with read_session(engine) as session:
        closed = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.ended_operation_id == moved.operation_id)
        )
    assert moved.closed == closed
    assert ownership_violations(engine, results) == []
