"""The demo generator: shape, determinism, and the ownership write path's invariants."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, and_, func, literal, select, text
from sqlalchemy.orm import aliased

from bookwise.assignments.inheritance import reconcile_inheritance, set_default_policy
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import make_engine, read_session, write_session
from bookwise.demo import DemoSummary, generate_demo, generator, writer
from bookwise.errors import Conflict, InvalidInput
from bookwise.models import (
    Account,
    AccountValue,
    Assignment,
    Operation,
    OwnershipChange,
    User,
    utcnow,
)
from bookwise.users.service import cli_user
from tests.conftest import PG_URL
from tests.factories import make_account, make_user
from tests.helpers import count_statements, reset_postgres

N = 2_000
TODAY = date(2026, 11, 22)
FreshEngine = Callable[[], Engine]


def demo(engine: Engine, **options: Any) -> DemoSummary:
    """Generate the standard test book (fixed ``today`` so renewal dates are reproducible)."""
    options.setdefault("accounts", N)
    return generate_demo(engine, today=TODAY, **options)


def scalar(engine: Engine, query: Any) -> Any:
    with read_session(engine) as session:
        return session.scalar(query)


def fingerprint(engine: Engine) -> str:
    """A hash of every generated row (assignments name users by email, not by id)."""
    owner = aliased(User)
    queries = [
        select(*Account.__table__.columns).order_by(Account.id),
        select(User.email, User.name, User.role, User.csm_seat, User.active, User.created_at)
        .where(User.is_system.is_(False))
        .order_by(User.id),
        select(
            Assignment.id,
            Assignment.account_id,
            owner.email,
            Assignment.role,
            Assignment.is_primary,
            Assignment.source,
            Assignment.reason,
            Assignment.operation_id,
            Assignment.started_at,
            Assignment.ended_at,
            Assignment.ended_operation_id,
        )
        .join(owner, owner.id == Assignment.user_id)
        .order_by(Assignment.id),
        select(
            OwnershipChange.account_id,
            OwnershipChange.version,
            OwnershipChange.operation_id,
            OwnershipChange.changed_at,
        ).order_by(OwnershipChange.account_id, OwnershipChange.version),
        select(
            AccountValue.account_id,
            AccountValue.field,
            AccountValue.value,
            AccountValue.previous,
            AccountValue.valid_from,
            AccountValue.valid_to,
        ).order_by(AccountValue.account_id, AccountValue.field, AccountValue.valid_from),
    ]
    digest = hashlib.sha256()
    with read_session(engine) as session:
        for query in queries:
            for row in session.execute(query):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


@pytest.fixture
def fresh_engine(database_url: str, _template: str, tmp_path: Path) -> Iterator[FreshEngine]:
    """Make further empty databases: template copies (SQLite), or the same one reset (PG)."""
    engines: list[Engine] = []

    def make() -> Engine:
        if PG_URL:
            engine = make_engine(database_url)
            reset_postgres(engine)
        else:
            target = tmp_path / f"fresh{len(engines)}.db"
            shutil.copyfile(_template, target)
            engine = make_engine(f"sqlite:///{target}")
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def test_shape_of_the_book(engine: Engine) -> None:
    summary = demo(engine)
    assert (summary.accounts, summary.users) == (N, 15)
    assert summary.seconds > 0
    child = aliased(Account)
    parents = scalar(
        engine,
        select(func.count())
        .select_from(Account)
        .where(select(child.id).where(child.parent_id == Account.id).exists()),
    )
    children = scalar(engine, select(func.count()).where(Account.parent_id.is_not(None)))
    grandchildren = scalar(engine, select(func.count()).where(Account.depth == 2))
    standalone = scalar(
        engine,
        select(func.count())
        .select_from(Account)
        .where(
            Account.parent_id.is_(None),
            ~select(child.id).where(child.parent_id == Account.id).exists(),
        ),
    )
    assert 0.12 <= parents / N <= 0.18
    assert 0.40 <= children / N <= 0.50
    assert 0.35 <= standalone / N <= 0.47
    assert grandchildren > 0
    assert scalar(engine, select(func.max(Account.depth))) == 2
    assert scalar(engine, select(func.count()).select_from(Account)) == N
    # The load writes no child counts; its last step counts them, exactly.
    assert scalar(engine, select(func.count()).where(Account.child_count > 0)) == parents
    assert scalar(engine, select(func.sum(Account.child_count))) == children


def test_owned_share_and_assignment_counts(engine: Engine) -> None:
    summary = demo(engine)
    owned = scalar(engine, select(func.count()).where(Account.ownership_version >= 1))
    assert 0.65 <= owned / N <= 0.75
    rows = scalar(engine, select(func.count()).where(Assignment.ended_at.is_(None)))
    assert rows == summary.assignments
    co_owned = scalar(
        engine,
        select(func.count()).select_from(
            select(Assignment.account_id)
            .where(Assignment.ended_at.is_(None))
            .group_by(Assignment.account_id)
            .having(func.count() == 2)
            .subquery()
        ),
    )
    assert 0 < co_owned / N < 0.04


def test_same_seed_gives_the_same_rows(engine: Engine, fresh_engine: FreshEngine) -> None:
    demo(engine, seed=7)
    first = fingerprint(engine)
    assert fingerprint(engine) == first
    again = fresh_engine()
    demo(again, seed=7)
    assert fingerprint(again) == first
    other = fresh_engine()
    demo(other, seed=8)
    assert fingerprint(other) != first


def test_statement_count_does_not_grow_with_accounts(
    engine: Engine, fresh_engine: FreshEngine
) -> None:
    with count_statements(engine) as small:
        demo(engine, accounts=40)
    bigger = fresh_engine()
    with count_statements(bigger) as large:
        demo(bigger, accounts=1_500)
    assert len(large.statements) == len(small.statements)


def test_rows_are_the_same_on_every_database(engine: Engine) -> None:
    # One fixed hash for SQLite and PostgreSQL: CI runs this file on both.
    demo(engine, accounts=300, seed=3)
    assert fingerprint(engine) == GOLDEN_300


GOLDEN_300 = "89eae43a9ff951040d9b3083fce6c0747ddf7405688b8807a31605978e9b09fe"


def test_depth_matches_the_parent_links(engine: Engine) -> None:
    demo(engine)
    tree = (
        select(Account.id.label("id"), literal(0).label("depth"))
        .where(Account.parent_id.is_(None))
        .cte("tree", recursive=True)
    )
    below = aliased(Account)
    tree = tree.union_all(
        select(below.id, tree.c.depth + 1).join(tree, below.parent_id == tree.c.id)
    )
    mismatches = scalar(
        engine,
        select(func.count())
        .select_from(Account)
        .outerjoin(tree, tree.c.id == Account.id)
        .where((tree.c.depth.is_(None)) | (tree.c.depth != Account.depth)),
    )
    assert mismatches == 0
    # Parents come first: ids grow down the tree (SQLite checks the foreign key per row).
    parent = aliased(Account)
    backwards = scalar(
        engine,
        select(func.count())
        .select_from(Account)
        .join(parent, parent.id == Account.parent_id)
        .where(parent.id >= Account.id),
    )
    assert backwards == 0


def test_every_owner_is_an_active_csm_seat(engine: Engine) -> None:
    demo(engine)
    with read_session(engine) as session:
        refused = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .join(User, User.id == Assignment.user_id)
            .where(
                Assignment.ended_at.is_(None),
                ~and_(User.active.is_(True), User.csm_seat.is_(True)),
            )
        )
        assert refused == 0
        former = session.scalars(select(User).where(User.active.is_(False))).one()
        assert former.csm_seat
        assert former.deactivated_at is not None
        # The former CSM's book moved when they left: none of their rows outlives that.
        ends = set(
            session.scalars(select(Assignment.ended_at).where(Assignment.user_id == former.id))
        )
        assert ends == {former.deactivated_at}
        roles = set(session.scalars(select(User.role).where(User.csm_seat.is_(False))))
        assert roles == {"admin", "viewer"}
        for user in session.scalars(select(User).where(User.is_system.is_(False))):
            assert user.email_fold == user.email.casefold()
            assert user.email.endswith("@example.com")


def test_each_row_starts_and_ends_with_its_operation(engine: Engine) -> None:
    summary = demo(engine)
    with read_session(engine) as session:
        operations = {o.id: o for o in session.scalars(select(Operation))}
        load = session.scalars(select(Operation).where(Operation.kind == "demo")).one()
        actor = cli_user(session)
        assert {o.actor_id for o in operations.values()} == {actor.id}
        assert {o.kind for o in operations.values()} == {"demo", "transfer", "deactivate"}
        rows = session.execute(
            select(Assignment, Account.created_at).join(
                Account, Account.id == Assignment.account_id
            )
        ).all()
        closed = [a for a, _ in rows if a.ended_at is not None]
        assert load.counts["opened"] == len(rows)
        assert load.counts["opened"] == summary.assignments + len(closed)
        for assignment, created_at in rows:
            assert assignment.role == "csm"
            if assignment.operation_id == load.id:
                assert assignment.started_at == max(load.created_at, created_at)
            else:
                assert assignment.started_at == operations[assignment.operation_id].created_at
                assert assignment.started_at > created_at
        for assignment in closed:
            assert assignment.operation_id == load.id
            ended_by = operations[assignment.ended_operation_id]
            assert assignment.ended_at == ended_by.created_at
        moves = [o for o in operations.values() if o.id != load.id]
        assert all(load.created_at < o.created_at < utcnow() for o in moves)
        for move in moves:
            opened = [a for a, _ in rows if a.operation_id == move.id]
            ended = [a for a in closed if a.ended_operation_id == move.id]
            assert move.counts == {"opened": len(opened), "closed": len(ended)}
            assert move.accounts_changed == len({a.account_id for a in opened})
        assert sum(o.counts["closed"] for o in moves) > 0.05 * N
        sources = {(a.source, a.reason) for a, _ in rows}
        assert ("import", "demo data") in sources
        assert ("inherited", "inherited from parent") in sources
        assert ("manual", "demo: rebalance") in sources


def test_versions_run_one_per_operation_without_gaps(engine: Engine) -> None:
    demo(engine)
    with read_session(engine) as session:
        operations = {o.id: o for o in session.scalars(select(Operation))}
        versions = dict(session.execute(select(Account.id, Account.ownership_version)).all())
        chain: dict[int, list[OwnershipChange]] = {}
        for link in session.scalars(
            select(OwnershipChange).order_by(OwnershipChange.account_id, OwnershipChange.version)
        ):
            chain.setdefault(link.account_id, []).append(link)
        assert set(versions.values()) == {0, 1, 2}
        for account_id, links in chain.items():
            assert [link.version for link in links] == list(range(1, len(links) + 1))
            assert versions[account_id] == len(links)
            for link in links[1:]:
                assert link.changed_at == operations[link.operation_id].created_at
            assert [link.changed_at for link in links] == sorted(link.changed_at for link in links)
        owned_ever = set(session.scalars(select(Assignment.account_id).distinct()))
        assert set(chain) == owned_ever
        assert {a for a, v in versions.items() if v > 0} == owned_ever
        # One open row per (account, user, role), and every account's current owners are the
        # ones its moved rows lead to.
        open_rows = session.execute(
            select(Assignment.account_id, Assignment.user_id, Assignment.role).where(
                Assignment.ended_at.is_(None)
            )
        ).all()
        assert len(open_rows) == len(set(open_rows))


def test_inheriting_children_carry_exactly_their_parents_csms(engine: Engine) -> None:
    demo(engine)
    with read_session(engine) as session:
        inheriting = session.scalar(select(func.count()).where(Account.inherit_policy == "inherit"))
        assert inheriting > 0.05 * N
        top_level_inheriting = session.scalar(
            select(func.count()).where(
                Account.inherit_policy == "inherit", Account.parent_id.is_(None)
            )
        )
        assert top_level_inheriting == 0
        wrong_source = session.scalar(
            select(func.count())
            .select_from(Assignment)
            .join(Account, Account.id == Assignment.account_id)
            .where((Account.inherit_policy == "inherit") != (Assignment.source == "inherited"))
        )
        assert wrong_source == 0
    with write_session(engine) as session:
        result = reconcile_inheritance(session, actor=cli_user(session), dry_run=True)
    assert result.accounts_changed == 0
    assert (result.inherited_opened, result.inherited_closed) == (0, 0)


def test_attributes_look_like_a_real_book(engine: Engine) -> None:
    demo(engine)
    with read_session(engine) as session:
        accounts = session.execute(select(*Account.__table__.columns)).all()
    tiers = [a.tier for a in accounts]
    assert 0.15 <= tiers.count(1) / N <= 0.25
    assert 0.44 <= tiers.count(3) / N <= 0.56
    stages = {a.lifecycle_stage for a in accounts}
    assert stages == {"onboarding", "adoption", "renewal", "churned"}
    assert {a.region for a in accounts} == {"EMEA", "NA", "APAC", "LATAM"}
    assert all(0 <= (a.health_score or 0) <= 100 for a in accounts)
    nps_null = sum(a.nps is None for a in accounts) / N
    rating_null = sum(a.csm_rating is None for a in accounts) / N
    assert 0.35 <= nps_null <= 0.45
    assert 0.45 <= rating_null <= 0.55
    assert all(-100 <= a.nps <= 100 for a in accounts if a.nps is not None)
    assert all(1 <= a.csm_rating <= 5 for a in accounts if a.csm_rating is not None)
    for tier, median in ((1, 300_000), (2, 100_000), (3, 40_000)):
        values = sorted(a.mrr or 0 for a in accounts if a.tier == tier)
        assert 0.7 * median <= values[len(values) // 2] <= 1.3 * median
    renewals = [a.renewal_date for a in accounts if a.renewal_date is not None]
    assert min(renewals) > TODAY
    assert max(renewals) <= date(2028, 5, 22)
    assert {a.created_at.year for a in accounts} <= set(range(2019, 2026))
    assert len({a.name_fold for a in accounts}) == N
    assert all(a.name_fold == a.name.casefold() for a in accounts)
    assert all(a.external_id == f"ACME-{a.id:06d}" for a in accounts)
    assert all(a.domain and a.domain.isascii() for a in accounts)


def test_refuses_a_database_that_has_accounts(engine: Engine) -> None:
    demo(engine, accounts=50)
    users = scalar(engine, select(func.count()).select_from(User))
    with pytest.raises(Conflict, match="already holds accounts"):
        demo(engine, accounts=50)
    assert scalar(engine, select(func.count()).select_from(User)) == users


def test_refuses_too_few_accounts(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        demo(engine, accounts=0)


def test_benchmark_shape(engine: Engine) -> None:
    summary = demo(engine, benchmark=True)
    assert summary.users == 200
    with read_session(engine) as session:
        people = session.execute(
            select(User.active, User.csm_seat, func.count())
            .where(User.is_system.is_(False))
            .group_by(User.active, User.csm_seat)
        ).all()
        assert {(a, s): n for a, s, n in people} == {
            (True, True): 190,
            (True, False): 5,
            (False, True): 5,
        }
        per_account = (
            select(func.count().label("owners"))
            .select_from(Assignment)
            .where(Assignment.ended_at.is_(None))
            .group_by(Assignment.account_id)
            .subquery()
        )
        shares = dict(
            session.execute(
                select(per_account.c.owners, func.count()).group_by(per_account.c.owners)
            ).all()
        )
        owners = session.scalar(select(func.count(func.distinct(Assignment.user_id))))
    assert set(shares) == {1, 2}
    assert 0.035 <= shares[2] / N <= 0.065
    assert 0.65 <= (shares[1] + shares[2]) / N <= 0.75
    assert owners > 150


def test_progress_is_reported_per_batch(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "BATCH_SIZE", 300)
    calls: list[tuple[int, int]] = []
    demo(engine, progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert len(calls) >= N // 300
    assert done == sorted(done)
    assert {total for _, total in calls} == {N}
    assert done[-1] == N


def test_normal_writes_continue_after_the_demo(engine: Engine) -> None:
    # On PostgreSQL the generator chose the ids itself, so it must have moved the sequences.
    demo(engine, accounts=100)
    last_user = scalar(engine, select(func.max(User.id)))
    with write_session(engine) as session:
        account = make_account(session, "After the demo")
        user = make_user(session, "later@example.com")
        actor = cli_user(session)
        result = assign_accounts(
            session, selection=AccountRefs(refs=[account.id]), csms=[user], actor=actor
        )
        assert account.id == 101
        assert user.id == last_user + 1
        assert result.opened == 1


def schema_objects(engine: Engine) -> set[tuple[str, ...]]:
    """Index and foreign-key definitions of the tables the generator bulk-loads."""
    tables = "('accounts', 'assignments', 'ownership_changes')"
    if PG_URL:
        queries = [
            f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN {tables}",
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conrelid::regclass::text IN {tables}",
        ]
    else:
        queries = [
            f"SELECT name, sql FROM sqlite_master WHERE tbl_name IN {tables}",
            *(
                f'SELECT \'{t}\', "table", "from", "to" FROM pragma_foreign_key_list(\'{t}\')'
                for t in ("accounts", "assignments", "ownership_changes")
            ),
        ]
    with read_session(engine) as session:
        return {tuple(row) for query in queries for row in session.execute(text(query))}


def test_indexes_and_foreign_keys_are_restored(engine: Engine) -> None:
    before = schema_objects(engine)
    assert len(before) > 10
    demo(engine, accounts=200)
    assert schema_objects(engine) == before


def test_a_failed_load_leaves_nothing_behind(engine: Engine) -> None:
    before = schema_objects(engine)

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        demo(engine, progress=interrupt)
    assert schema_objects(engine) == before
    assert scalar(engine, select(func.count()).select_from(Account)) == 0
    assert scalar(engine, select(func.count()).select_from(Operation)) == 0
    assert scalar(engine, select(func.count()).select_from(User)) == 1
    if not PG_URL:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA ignore_check_constraints").scalar() == 0
    summary = demo(engine, accounts=100)
    assert summary.accounts == 100


def test_owning_children_say_so_when_the_default_is_inherit(engine: Engine) -> None:
    with write_session(engine) as session:
        set_default_policy(session, policy="inherit", actor=cli_user(session))
    demo(engine)
    with read_session(engine) as session:
        unset_children = session.scalar(
            select(func.count()).where(
                Account.parent_id.is_not(None), Account.inherit_policy.is_(None)
            )
        )
        assert unset_children == 0
    with write_session(engine) as session:
        result = reconcile_inheritance(session, actor=cli_user(session), dry_run=True)
    assert result.accounts_changed == 0


@pytest.mark.skipif(bool(PG_URL), reason="SQLite skips CHECKs while loading; PostgreSQL never does")
def test_checks_are_verified_after_the_load_and_switched_back_on(engine: Engine) -> None:
    demo(engine, accounts=100)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA ignore_check_constraints").scalar() == 0
    with write_session(engine) as session:
        session.execute(text("PRAGMA ignore_check_constraints = ON"))
        session.execute(text("UPDATE accounts SET health_score = 500 WHERE id = 1"))
        session.execute(text("PRAGMA ignore_check_constraints = OFF"))
        with pytest.raises(RuntimeError, match="1 rows of accounts break a check"):
            writer.verify_checks(session, Account.__table__)
        session.rollback()


@pytest.mark.skipif(bool(PG_URL), reason="SQLite checks foreign keys once after the load")
def test_sqlite_load_takes_the_write_lock_and_checks_foreign_keys_once(engine: Engine) -> None:
    with count_statements(engine) as log:
        demo(engine, accounts=100)
    assert log.statements[0] == "BEGIN IMMEDIATE"
    assert any("foreign_key_check(assignments)" in s for s in log.statements)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with writer.load_session(engine) as session:
        session.execute(text("UPDATE assignments SET user_id = 99999 WHERE id = 1"))
        with pytest.raises(RuntimeError, match="1 rows of assignments break a foreign key"):
            writer.verify_foreign_keys(session, ["assignments"])
        session.rollback()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
