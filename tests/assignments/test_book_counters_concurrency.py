"""Concurrent writers keep the overview's counters exact, and proof that the triggers' guards
matter.

The guards (migration 0008, PostgreSQL): every counter trigger locks the counter rows it will
change, coverage rows first and then book rows, each in key order, *before* it reads what the
counts depend on, so its reads see everything committed by whoever held the locks before; and
coverage is judged per account (active owners now against now minus the statement's change),
so one statement opening two owners on one account counts it once. Each guard can be taken
out by installing a deliberately broken variant of the trigger functions, built from the
migration's own SQL (``trigger_variant``); the tests below run with the shipped functions and
with a broken one, and the broken run must get the counters wrong.

A third guard is in the write path: an operation locks every account it will change (the
inheriting descendants too) before its first write, so it never waits for an account while
holding counter rows; with the old order (descendants locked after phase 1) a scripted
interleaving deadlocks, and PostgreSQL fails one of the two.

What was tried by hand as well: dropping only the ``ORDER BY`` of the book-row locks changes
nothing observable, because every trigger takes the role's coverage row first, so two writers
never hold book rows in opposite orders; the ordering protects a trigger that would lock book
rows alone. Removing the lock statements altogether is what the scripted races catch.

SQLite admits one writer at a time (BEGIN IMMEDIATE) and its row triggers run inside the
writing statement, so its counters cannot race; its thread test checks exactly that, and
that a broken trigger is caught.
"""

from __future__ import annotations

import importlib.util
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from bookwise.assignments import plan, propagation, service
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.db import is_sqlite, run_write, write_session
from bookwise.migrate import MIGRATIONS
from bookwise.models import Account, User
from bookwise.users.service import set_active
from tests.assignments.test_book_counters import counter_errors
from tests.assignments.test_concurrency import assign_work, remove_guard, wait_for_lock_waiter
from tests.assignments.test_lock_order import targets_only
from tests.factories import actor, make_account, make_family_tree, make_user

THREADS = 8
OPS_PER_THREAD = {"sqlite": 6, "postgresql": 8}
Work = Callable[[Session], object]


# --- broken variants of the triggers -----------------------------------------------------------


def counter_migration() -> ModuleType:
    """Migration 0008 as a module: its SQL is the source of every variant."""
    path = MIGRATIONS / "versions" / "0008_overview_counters.py"
    spec = importlib.util.spec_from_file_location("bookwise_migration_0008", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _without_counter_locks(sql: str) -> str:
    # Every "EXECUTE $lock$ SELECT … FOR UPDATE $lock$;": the writes then lock rows only as
    # they update them, after reading with the snapshot their statement began with.
    return re.sub(r"EXECUTE \$lock\$.*?\$lock\$;", "", sql, flags=re.S)


def _coverage_per_row(sql: str) -> str:
    # PostgreSQL: as if a statement changed at most one owner per account.
    sql = sql.replace("owners.active_now - per_account.d > 0", "owners.active_now - 1 > 0")
    # SQLite: every open row by an active user covers its account, owned by others or not.
    return sql.replace("AND NOT EXISTS (", "AND NOT 0 * EXISTS (")


BREAKS: dict[str, Callable[[str], str]] = {
    "no counter locks": _without_counter_locks,
    "coverage per row": _coverage_per_row,
}


@contextmanager
def trigger_variant(engine: Engine, variant: str) -> Iterator[None]:
    """Run the block with the shipped triggers, or with a broken variant of them."""
    if variant == "shipped":
        yield
        return
    migration = counter_migration()
    if is_sqlite(engine):
        # The test's own database file: nothing to put back afterwards.
        pairs = zip(migration.SQLITE_TRIGGER_NAMES, migration.SQLITE_TRIGGERS, strict=True)
        broken = [(n, BREAKS[variant](ddl)) for n, ddl in pairs if BREAKS[variant](ddl) != ddl]
        assert broken, f"{variant} changed no SQLite trigger"
        with engine.begin() as conn:
            for name, ddl in broken:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
                conn.exec_driver_sql(ddl)
        yield
        return
    shipped = [s for s in migration.POSTGRES_TRIGGERS if s.lstrip().startswith("CREATE FUNCTION")]
    broken_functions = [BREAKS[variant](s) for s in shipped]
    assert broken_functions != shipped, f"{variant} changed no PostgreSQL function"
    _install(engine, broken_functions)
    try:
        yield
    finally:  # the database outlives the test: put the shipped functions back
        _install(engine, shipped)


def _install(engine: Engine, functions: list[str]) -> None:
    with engine.begin() as conn:
        for sql in functions:
            conn.exec_driver_sql(sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))


def skip_broken_on_sqlite(engine: Engine, variant: str) -> None:
    if variant != "shipped" and is_sqlite(engine):
        pytest.skip("the broken variant is of a PostgreSQL function; SQLite writers are serial")


def assert_as_shipped(engine: Engine, name: str, variant: str, broken: bool = True) -> None:
    """Shipped: exact. A broken variant that should show: wrong, or the test has no teeth."""
    errors = counter_errors(engine)
    print(f"{engine.dialect.name} {name} [{variant}]: {errors}")
    if variant == "shipped" or not broken:
        assert errors == []
    else:
        assert errors, f"{name} stayed exact with {variant}: the test has no teeth"


# --- scripted interleavings (one waits for the other's lock) -----------------------------------


def _owner_and_account(engine: Engine) -> tuple[int, int, int]:
    """(U, V, account): U alone owns the account (with MRR); V is another active CSM."""
    with write_session(engine) as session:
        u, v = make_user(session), make_user(session)
        account = make_account(session, mrr=250_00)
        assign_accounts(
            session, selection=AccountRefs([account.id]), csms=[u], actor=actor(session)
        )
        return u.id, v.id, account.id


def _deactivate_keep(user_id: int) -> Work:
    def work(session: Session) -> object:
        user = session.get_one(User, user_id)
        return deactivate_user(session, user=user, actor=actor(session), keep=True)

    return work


@pytest.mark.parametrize("variant", ["shipped", "no counter locks"])
def test_assigning_an_account_whose_owner_is_being_deactivated(
    engine: Engine, variant: str
) -> None:
    """U (sole owner) is deactivated with --keep while V is assigned the same account.

    Deactivation locks no account, so nothing but the counter lock orders the two: without
    it V's trigger still sees U active and leaves coverage alone, while the deactivation has
    already taken the account off: the team loses an account V owns.
    """
    skip_broken_on_sqlite(engine, variant)
    u, v, account = _owner_and_account(engine)
    with trigger_variant(engine, variant), ThreadPoolExecutor(1) as background:
        with write_session(engine) as held:
            _deactivate_keep(u)(held)
            waiter = background.submit(run_write, engine, assign_work(account, v))
            wait_for_lock_waiter(engine, unless=waiter)
        waiter.result()
        assert_as_shipped(engine, "assign during deactivation", variant)


@pytest.mark.parametrize("variant", ["shipped", "no counter locks"])
def test_deactivating_an_owner_while_a_colleague_is_assigned(engine: Engine, variant: str) -> None:
    """The other order: V's assignment is uncommitted while U is deactivated with --keep."""
    skip_broken_on_sqlite(engine, variant)
    u, v, account = _owner_and_account(engine)
    with trigger_variant(engine, variant), ThreadPoolExecutor(1) as background:
        with write_session(engine) as held:
            assign_work(account, v)(held)
            waiter = background.submit(run_write, engine, _deactivate_keep(u))
            wait_for_lock_waiter(engine, unless=waiter)
        waiter.result()
        assert_as_shipped(engine, "deactivation during assign", variant)


@pytest.mark.parametrize("account_locks", [True, False], ids=["account locks", "no account locks"])
@pytest.mark.parametrize("variant", ["shipped", "no counter locks"])
def test_two_csms_assigned_the_same_unowned_account_at_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, variant: str, account_locks: bool
) -> None:
    """Two transactions each open an owner on an account nobody owns: it is covered once.

    The services lock their accounts (plan.lock_targets), and the triggers lock the counters
    before judging coverage: either guard alone keeps the count exact; only without both do
    the two triggers each see an account "nobody owned" and count it twice.
    """
    skip_broken_on_sqlite(engine, variant)
    if not account_locks and is_sqlite(engine):
        pytest.skip("SQLite has no account locks to take away (BEGIN IMMEDIATE serialises)")
    with write_session(engine) as session:
        x, y = make_user(session).id, make_user(session).id
        account = make_account(session, mrr=99_00).id
        # Both CSMs own something already: their counter rows exist, as they would in use.
        others = AccountRefs([make_account(session).id])
        assign_accounts(
            session,
            selection=others,
            csms=[session.get_one(User, u) for u in (x, y)],
            actor=actor(session),
        )
    if not account_locks:
        remove_guard(monkeypatch, engine)
    with trigger_variant(engine, variant), ThreadPoolExecutor(1) as background:
        with write_session(engine) as held:
            assign_work(account, x)(held)
            waiter = background.submit(run_write, engine, assign_work(account, y))
            wait_for_lock_waiter(engine, unless=waiter)
        waiter.result()
        assert_as_shipped(engine, "same account", variant, broken=not account_locks)


def _propagate_scope_after_phase_one(
    ctx: OperationContext, *, inheritable: bool, roots_own: bool = True
) -> None:
    """The write path as it was: the inheriting descendants locked after phase 1's writes."""
    plan.apply_phase(ctx, 1)
    if inheritable:
        roots = propagation.phase_one_accounts(ctx)
        propagation.plan_inheritance(ctx, roots=roots, roots_own=roots_own)
        plan.apply_phase(ctx, 2)


@pytest.mark.parametrize("order", ["scope first", "scope after phase 1"])
def test_an_operation_locks_its_inheriting_accounts_before_it_takes_the_counters(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """Assigning a parent waits for its child's lock while another caller changes owners.

    Locked after phase 1, the child is waited for while the operation already holds the
    role's coverage row; the other caller, holding the child, then waits for that row: a
    deadlock, which PostgreSQL breaks by failing one of them (run_write retries it).
    """
    if is_sqlite(engine):
        pytest.skip("SQLite admits one writer at a time: nothing to wait for in between")
    with write_session(engine) as session:
        x, y = make_user(session).id, make_user(session).id
        (parent,), (child,) = make_family_tree(session, parents=1, children_each=1, prefix="D")
        parent_id, child_id = parent.id, child.id
        other = make_account(session).id
    if order != "scope first":
        monkeypatch.setattr(service, "propagate", _propagate_scope_after_phase_one)
        # lock_targets also locks the inheriting descendants now: take that away too.
        monkeypatch.setattr(plan, "target_rows", targets_only)
    attempts = Counter[str]()

    def assign_parent(session: Session) -> object:
        attempts["parent"] += 1
        return assign_work(parent_id, x)(session)

    with ThreadPoolExecutor(1) as background:
        with write_session(engine) as held:
            held.execute(select(Account.id).where(Account.id == child_id).with_for_update())
            waiter = background.submit(run_write, engine, assign_parent)
            wait_for_lock_waiter(engine, unless=waiter)
            assign_work(other, y)(held)  # takes the coverage row in its trigger
        waiter.result()
    print(f"{order}: the parent's assignment ran {attempts['parent']} times")
    if order == "scope first":
        assert attempts["parent"] == 1
    else:
        assert attempts["parent"] > 1, "no deadlock with the old order: the test has no teeth"
    assert counter_errors(engine) == []


# --- the random race -----------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Ids shared by the racing threads."""

    csms: list[int]
    accounts: list[int]
    toggled: list[int]  # CSMs who are deactivated (--keep) and reactivated during the race


def build_world(engine: Engine) -> World:
    """6 CSMs, 4 families with inheriting children, 24 standalone accounts; 3 CSMs own some."""
    rng = random.Random(3)
    with write_session(engine) as session:
        csms = [make_user(session) for _ in range(6)]
        parents, _children = make_family_tree(session, parents=4, children_each=2, prefix="R")
        rest = [make_account(session, mrr=rng.choice([None, 0, 50_00, 1234_56])) for _ in range(24)]
        own = [a.id for a in parents + rest]
        for csm in csms[:3]:
            picked = [a for a in own if rng.random() < 0.4]
            assign_accounts(
                session, selection=AccountRefs(picked), csms=[csm], actor=actor(session)
            )
        return World([u.id for u in csms], own, [csms[0].id, csms[3].id])


def random_work(rng: random.Random, world: World) -> Work:
    """One random write: ownership changes, (de)activation, MRR edits."""
    x, y = rng.sample(world.csms, 2)
    refs = AccountRefs(rng.sample(world.accounts, rng.randint(1, 5)))
    toggled = rng.choice(world.toggled)
    roll = rng.random()
    mrr = rng.randint(0, 10**6)

    def work(s: Session) -> object:
        me, first, second = actor(s), s.get_one(User, x), s.get_one(User, y)
        if roll < 0.20:
            return assign_accounts(s, selection=refs, csms=[first], actor=me)
        if roll < 0.35:
            return assign_accounts(s, selection=refs, csms=[first, second], actor=me)
        if roll < 0.52:
            return unassign_accounts(s, selection=refs, csm=first, actor=me)
        if roll < 0.70:
            return transfer_accounts(s, from_csm=first, to_csm=second, selection=refs, actor=me)
        if roll < 0.75:
            return transfer_accounts(s, from_csm=first, to_csm=second, actor=me)
        if roll < 0.83:
            return _deactivate_keep(toggled)(s)
        if roll < 0.92:
            return set_active(s, user=s.get_one(User, toggled), active=True, actor=me)
        ids = list(refs.refs)
        return s.execute(update(Account).where(Account.id.in_(ids)).values(mrr=mrr))

    return work


def run_race(engine: Engine, world: World, *, seed: int) -> list[Exception]:
    """``THREADS`` threads of random writes, each its own transaction (retried as shipped)."""
    ops = OPS_PER_THREAD[engine.dialect.name]
    errors: list[Exception] = []
    start_line = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        rng = random.Random(f"{seed}-{index}")
        start_line.wait()
        for _ in range(ops):
            try:
                run_write(engine, random_work(rng, world))
            except Exception as exc:  # every error is a finding
                errors.append(exc)

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker, i) for i in range(THREADS)]:
            future.result()
    return errors


@pytest.mark.parametrize("variant", ["shipped", "coverage per row"])
def test_racing_writers_keep_the_counters_exact(engine: Engine, variant: str) -> None:
    """8 writers assign, co-assign, unassign, transfer, (de)activate and edit MRR at once."""
    world = build_world(engine)
    with trigger_variant(engine, variant):
        errors = run_race(engine, world, seed=11)
        summary = Counter(f"{type(e).__name__}: {str(e).splitlines()[0][:80]}" for e in errors)
        assert summary == Counter()
        assert_as_shipped(engine, "race", variant)


def test_the_broken_variants_really_differ_from_the_shipped_sql() -> None:
    """Each break applies to the SQL as shipped (a rewrite of the triggers must keep them)."""
    migration = counter_migration()
    for name, brk in BREAKS.items():
        assert any(brk(s) != s for s in migration.POSTGRES_TRIGGERS), name
    assert any(_coverage_per_row(s) != s for s in migration.SQLITE_TRIGGERS)
    functions = "\n".join(migration.POSTGRES_TRIGGERS)
    # Coverage rows are locked before book rows, each in key order, in every function.
    assert functions.count("ORDER BY role FOR UPDATE") == 5
    assert functions.count("ORDER BY user_id, role FOR UPDATE") == 4


@pytest.fixture(autouse=True)
def _no_leftover_variant(engine: Engine) -> Iterator[None]:
    """After each test the shipped PostgreSQL functions are installed (a variant restores them)."""
    yield
    if not is_sqlite(engine):
        with engine.connect() as conn:
            body = conn.scalar(
                text(
                    "SELECT prosrc FROM pg_proc WHERE proname = 'book_counts_assignments_inserted'"
                )
            )
        assert "FOR UPDATE" in body
