"""The overview's counters stay exact after every kind of write (migration 0008's triggers).

The check is always the same: ``recount_book_totals(..., dry_run=True)`` counts every counter
from scratch and compares it with what the triggers kept. The overview read from the counters
must also equal the overview as it used to be counted, by scanning (``scanned_overview``).
Concurrency is in ``test_book_counters_concurrency.py``.
"""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, and_, func, select, text, update
from sqlalchemy.orm import Session

from bookwise.accounts.service import count_accounts
from bookwise.assignments.counters import recount_book_totals
from bookwise.assignments.inheritance import (
    apply_inheritance,
    move_account,
    set_default_policy,
    set_inherit_policy,
)
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.overview import CsmOverview, CsmRow, book_sizes, book_totals, csm_overview
from bookwise.assignments.predicates import owned_by_anyone_active
from bookwise.assignments.schemas import OperationResult
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts, unassign_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.db import read_session, write_session
from bookwise.demo.generator import generate_demo
from bookwise.errors import BookwiseError
from bookwise.models import Account, Assignment, AuditEvent, BookCount, CoverageCount, User
from bookwise.money import from_minor_units
from bookwise.users.service import set_active
from tests.factories import actor, make_account, make_family_tree, make_user
from tests.helpers import count_statements
from tests.importing.helpers import run_import, write_rows

# --- the check ---------------------------------------------------------------------------------


def counter_errors(engine: Engine) -> list[str]:
    """What the stored counters get wrong, counted from scratch (empty when exact)."""
    with read_session(engine) as session:
        report = recount_book_totals(session, actor=actor(session), dry_run=True)
        problems = report.differences()
        for role in {"csm", *report.counted.coverage}:
            if csm_overview(session, role=role) != scanned_overview(session, role):
                problems.append(f"the overview of role {role} differs from a scan")
    return problems


def assert_exact(engine: Engine) -> None:
    """The counters equal a recount, and the overview equals the scanned one."""
    assert counter_errors(engine) == []


def _units(minor: object) -> Decimal:
    amount = from_minor_units(int(minor or 0))  # type: ignore[call-overload]
    assert amount is not None
    return amount


def scanned_overview(session: Session, role: str = "csm") -> CsmOverview:
    """The overview counted the way it was before the counters: by scanning every row."""
    rows = session.execute(
        select(User.email, User.name, func.count(Assignment.account_id), func.sum(Account.mrr))
        .select_from(User)
        .outerjoin(
            Assignment,
            and_(
                Assignment.user_id == User.id,
                Assignment.role == role,
                Assignment.ended_at.is_(None),
            ),
        )
        .outerjoin(Account, Account.id == Assignment.account_id)
        .where(User.active.is_(True), User.csm_seat.is_(True))
        .group_by(User.id, User.email, User.name, User.email_fold)
        .order_by(User.email_fold)
    ).all()
    team_accounts, team_mrr = session.execute(
        select(func.count(), func.sum(Account.mrr)).where(owned_by_anyone_active(role))
    ).one()
    total = session.scalar(select(func.count()).select_from(Account)) or 0
    return CsmOverview(
        items=[CsmRow(email=e, name=n, accounts=int(c), mrr=_units(m)) for e, n, c, m in rows],
        total=len(rows),
        team_accounts=int(team_accounts),
        team_mrr=_units(team_mrr),
        unassigned_accounts=int(total) - int(team_accounts),
    )


# --- a small book -------------------------------------------------------------------------------

_worlds = itertools.count(1)


class Book:
    """Ids of a small book: CSMs, two families (inheriting children), standalone accounts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        n = next(_worlds)
        with write_session(engine) as session:
            self.csms = [make_user(session, f"csm{i}-{n}@example.com").id for i in range(4)]
            parents, children = make_family_tree(
                session, parents=2, children_each=2, prefix=f"W{n}-"
            )
            self.parents = [p.id for p in parents]
            self.children = [c.id for c in children]
            mrrs: list[int | None] = [None, 0, 12_345, 99_00, 1_000_00, 7]
            self.standalone = [make_account(session, mrr=m).id for m in mrrs]
        self.accounts = self.parents + self.children + self.standalone
        self.own = self.parents + self.standalone  # accounts a bulk change may touch directly

    def run(self, work: Any) -> Any:
        """Run ``work(session)`` in its own write transaction."""
        with write_session(self.engine) as session:
            return work(session)

    def user(self, session: Session, index: int) -> User:
        """The index-th CSM in this session."""
        return session.get_one(User, self.csms[index])

    def assign(self, ids: list[int], *csms: int) -> OperationResult:
        """Assign the accounts to the CSMs (by index), one operation."""
        return self.run(
            lambda s: assign_accounts(
                s,
                selection=AccountRefs(ids),
                csms=[self.user(s, c) for c in csms],
                actor=actor(s),
            )
        )


def undo(engine: Engine, result: OperationResult) -> None:
    """Undo the operation of ``result`` in its own transaction."""
    assert result.operation_id is not None
    op_id = result.operation_id
    with write_session(engine) as session:
        undo_operation(session, operation_id=op_id, actor=actor(session))


# --- after every kind of write ------------------------------------------------------------------


def test_a_new_database_has_exact_zero_counters(engine: Engine) -> None:
    assert_exact(engine)
    with read_session(engine) as session:
        overview = csm_overview(session)
    assert (overview.team_accounts, overview.unassigned_accounts) == (0, 0)


def test_assign_two_csms_in_one_statement_covers_each_account_once(engine: Engine) -> None:
    book = Book(engine)
    result = book.assign(book.standalone, 0, 1)
    assert result.opened == 2 * len(book.standalone)  # one INSERT, two owners per account
    assert_exact(engine)
    with read_session(engine) as session:
        overview = csm_overview(session)
        mrr = sum(
            m or 0
            for m in session.scalars(select(Account.mrr).where(Account.id.in_(book.standalone)))
        )
        assert book_totals(session, user_id=book.csms[0]) == (6, _units(mrr))
        assert book_sizes(session) == {book.csms[0]: 6, book.csms[1]: 6}
    assert overview.team_accounts == len(book.standalone)
    assert overview.team_mrr == _units(mrr)
    assert overview.unassigned_accounts == len(book.accounts) - len(book.standalone)
    undo(engine, result)
    assert_exact(engine)


def test_unassign_keeps_coverage_while_a_co_owner_remains(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone[:4], 0)
    book.assign(book.standalone[2:], 1)
    result = book.run(
        lambda s: unassign_accounts(
            s, selection=AccountRefs(book.standalone), csm=book.user(s, 0), actor=actor(s)
        )
    )
    assert result.closed == 4
    assert_exact(engine)
    with read_session(engine) as session:
        assert csm_overview(session).team_accounts == 4
    undo(engine, result)
    assert_exact(engine)


def test_transfer_where_the_target_already_owns_some(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone, 0)
    book.assign(book.standalone[:3], 1)
    moved = book.run(
        lambda s: transfer_accounts(
            s, from_csm=book.user(s, 0), to_csm=book.user(s, 1), actor=actor(s)
        )
    )
    assert (moved.closed, moved.opened) == (6, 3)
    assert_exact(engine)
    undo(engine, moved)
    assert_exact(engine)
    some = book.run(
        lambda s: transfer_accounts(
            s,
            from_csm=book.user(s, 0),
            to_csm=book.user(s, 2),
            selection=AccountRefs(book.standalone[:2]),
            actor=actor(s),
        )
    )
    assert some.closed == 2
    assert_exact(engine)


def test_inheritance_reparenting_and_policies_with_their_undo(engine: Engine) -> None:
    book = Book(engine)
    first = book.assign(book.parents[:1], 0, 1)
    assert first.inherited_opened == 4  # two inheriting children × two CSMs
    book.assign(book.parents[1:], 2)
    assert_exact(engine)
    done: list[OperationResult] = []
    done.append(
        book.run(
            lambda s: move_account(
                s,
                account=s.get_one(Account, book.children[0]),
                parent=s.get_one(Account, book.parents[1]),
                actor=actor(s),
            )
        )
    )
    assert_exact(engine)
    done.append(
        book.run(
            lambda s: set_inherit_policy(
                s, selection=AccountRefs(book.children[2:]), policy="own", actor=actor(s)
            )
        )
    )
    assert_exact(engine)
    done.append(
        book.run(
            lambda s: set_inherit_policy(
                s, selection=AccountRefs(book.children[2:]), policy="inherit", actor=actor(s)
            )
        )
    )
    done.append(book.run(lambda s: set_default_policy(s, policy="inherit", actor=actor(s))))
    assert_exact(engine)
    for result in reversed(done):
        undo(engine, result)
        assert_exact(engine)


def test_a_new_child_under_an_owned_parent(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.parents[:1], 0)

    def add_child(session: Session) -> None:
        parent = session.get_one(Account, book.parents[0])
        child = make_account(session, parent=parent, inherit_policy="inherit", mrr=500)
        roots = select(Account.id).where(Account.id == child.id)
        apply_inheritance(session, roots=roots, actor=actor(session))

    book.run(add_child)
    assert_exact(engine)
    with read_session(engine) as session:
        assert count_accounts(session) == len(book.accounts) + 1


def test_import_with_owner_cells_and_changed_mrr_and_its_undo(
    engine: Engine, tmp_path: Path
) -> None:
    with write_session(engine) as session:
        emails = [make_user(session, f"imp{i}@example.com").email for i in range(3)]
    first = write_rows(
        tmp_path / "first.csv",
        "external_id,name,mrr,csms",
        [
            f'I1,One,10.00,"{emails[0]}; {emails[1]}"',
            f"I2,Two,20.00,{emails[1]}",
            "I3,Three,,",
            f"I4,Four,5.00,{emails[2]}",
        ],
    )
    report, _ = run_import(engine, first)
    assert report.created == 4
    assert_exact(engine)
    second = write_rows(
        tmp_path / "second.csv",
        "external_id,mrr,csms",
        [f"I1,11.00,{emails[2]}", "I2,,", f"I3,30.00,{emails[0]}", "I4,6.50,"],
    )
    changed, _ = run_import(engine, second)
    assert changed.updated == 4
    assert_exact(engine)
    assert changed.operation_id is not None
    with write_session(engine) as session:
        undo_operation(session, operation_id=changed.operation_id, actor=actor(session))
    assert_exact(engine)  # undo reverts ownership only: the mrr values stay


def test_mrr_edits_through_the_orm_and_in_bulk(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone, 0, 1)
    book.assign(book.standalone[:2], 2)

    def edit(session: Session) -> None:
        account = session.get_one(Account, book.standalone[0])
        account.mrr = 4_242  # NULL -> a value
        session.get_one(Account, book.standalone[2]).mrr = None  # a value -> NULL
        session.flush()
        session.execute(
            update(Account)
            .where(Account.id.in_(book.accounts))
            .values(mrr=func.coalesce(Account.mrr, 0) + 100)
            .execution_options(synchronize_session=False)
        )

    book.run(edit)
    assert_exact(engine)


def test_deactivation_with_keep_then_reactivation(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone, 0)
    book.assign(book.standalone[:2], 1)  # co-owned: stays covered by csm 1

    book.run(lambda s: deactivate_user(s, user=book.user(s, 0), actor=actor(s), keep=True))
    assert_exact(engine)
    with read_session(engine) as session:
        overview = csm_overview(session)
    assert overview.team_accounts == 2
    assert overview.unassigned_accounts == len(book.accounts) - 2

    book.run(lambda s: set_active(s, user=book.user(s, 0), active=True, actor=actor(s)))
    assert_exact(engine)
    book.run(
        lambda s: deactivate_user(
            s, user=book.user(s, 1), actor=actor(s), transfer_to=book.user(s, 3)
        )
    )
    assert_exact(engine)


def test_several_users_change_activity_in_one_statement(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone[:3], 0, 1)
    book.assign(book.standalone[3:], 1)
    ids = book.csms[:2]

    def toggle(active: bool) -> None:
        book.run(lambda s: s.execute(update(User).where(User.id.in_(ids)).values(active=active)))

    toggle(False)
    assert_exact(engine)
    toggle(True)
    assert_exact(engine)


def test_rows_written_or_removed_outside_the_pipeline_are_counted_too(engine: Engine) -> None:
    """The triggers do not trust the write path: even a raw close or delete is counted."""
    book = Book(engine)
    book.assign(book.standalone, 0, 1)

    def raw(session: Session) -> None:
        session.execute(
            text("UPDATE assignments SET ended_at = started_at WHERE account_id = :a"),
            {"a": book.standalone[1]},
        )
        session.execute(
            text("UPDATE assignments SET user_id = :u WHERE account_id = :a AND user_id = :old"),
            {"a": book.standalone[2], "u": book.csms[3], "old": book.csms[0]},
        )
        session.execute(
            text("DELETE FROM assignments WHERE account_id = :a AND user_id = :old"),
            {"a": book.standalone[3], "old": book.csms[1]},
        )

    book.run(raw)
    assert_exact(engine)


def test_demo_generation_leaves_exact_counters(engine: Engine) -> None:
    generate_demo(engine, accounts=300)
    assert_exact(engine)
    with read_session(engine) as session:
        # The load itself ran without the triggers; they are back for what follows.
        csm = session.scalars(
            select(User).where(User.csm_seat.is_(True), User.active.is_(True))
        ).first()
        assert csm is not None
        csm_id = csm.id
    with write_session(engine) as session:
        unowned = select(Account.id).where(~owned_by_anyone_active()).limit(5)
        assign_accounts(
            session,
            selection=AccountRefs(list(session.scalars(unowned))),
            csms=[session.get_one(User, csm_id)],
            actor=actor(session),
        )
    assert_exact(engine)


# --- the repair ---------------------------------------------------------------------------------


def test_recount_repairs_what_is_off_and_says_so(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone, 0)
    with write_session(engine) as session:
        session.execute(update(BookCount).values(accounts=BookCount.accounts + 5))
        session.execute(update(CoverageCount).values(mrr=123))
        session.execute(text("DELETE FROM account_count"))
    assert len(counter_errors(engine)) >= 3

    with write_session(engine) as session:
        report = recount_book_totals(session, actor=actor(session))
    assert report.differed
    assert any("accounts:" in line for line in report.differences())
    assert_exact(engine)
    with write_session(engine) as session:
        assert not recount_book_totals(session, actor=actor(session)).differed
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "counters")
        ).all()
    assert events == ["counters.recounted"]


def test_the_overview_is_two_statements_and_reads_no_assignment(engine: Engine) -> None:
    book = Book(engine)
    book.assign(book.standalone, 0)
    with read_session(engine) as session, count_statements(engine) as log:
        csm_overview(session)
    statements = [s for s in log.statements if not s.startswith("BEGIN")]
    assert len(statements) == 2
    assert not any("assignments" in s for s in statements)


# --- random sequences (hypothesis) ---------------------------------------------------------------

KINDS = (
    "assign",
    "co-assign",
    "unassign",
    "transfer",
    "transfer book",
    "policy",
    "move",
    "undo",
    "deactivate keep",
    "reactivate",
    "deactivate transfer",
    "mrr",
    "import",
    "new child",
)


def random_write(book: Book, kind: str, rng: random.Random, done: list[int], tmp: Path) -> None:
    """One write of ``kind`` on random accounts and CSMs of ``book`` (errors are fine)."""
    some = rng.sample(book.accounts, rng.randint(1, 4))
    x, y = rng.sample(range(len(book.csms)), 2)

    def work(s: Session) -> OperationResult | None:
        me = actor(s)
        if kind in {"assign", "co-assign"}:
            csms = [book.user(s, x)] + ([book.user(s, y)] if kind == "co-assign" else [])
            return assign_accounts(s, selection=AccountRefs(some), csms=csms, actor=me)
        if kind == "unassign":
            return unassign_accounts(s, selection=AccountRefs(some), csm=book.user(s, x), actor=me)
        if kind.startswith("transfer"):
            selection = None if kind == "transfer book" else AccountRefs(some)
            return transfer_accounts(
                s, from_csm=book.user(s, x), to_csm=book.user(s, y), selection=selection, actor=me
            )
        if kind == "policy":
            policy = rng.choice(["own", "inherit", None])
            return set_inherit_policy(s, selection=AccountRefs(some), policy=policy, actor=me)
        if kind == "move":
            parent = rng.choice([None, *book.parents])
            return move_account(
                s,
                account=s.get_one(Account, rng.choice(book.children + book.standalone)),
                parent=s.get_one(Account, parent) if parent else None,
                actor=me,
            )
        if kind == "undo" and done:
            return undo_operation(s, operation_id=done.pop(), actor=me)
        if kind == "deactivate keep":
            return deactivate_user(s, user=book.user(s, x), actor=me, keep=True)
        if kind == "reactivate":
            set_active(s, user=book.user(s, x), active=True, actor=me)
        if kind == "deactivate transfer":
            return deactivate_user(s, user=book.user(s, x), actor=me, transfer_to=book.user(s, y))
        if kind == "mrr":
            for account_id in some:
                s.get_one(Account, account_id).mrr = rng.choice([None, 0, rng.randint(1, 10**6)])
            s.flush()
        if kind == "new child":
            parent = s.get_one(Account, rng.choice(book.parents))
            child = make_account(s, parent=parent, inherit_policy="inherit", mrr=rng.randint(0, 99))
            book.accounts.append(child.id)
            apply_inheritance(s, roots=select(Account.id).where(Account.id == child.id), actor=me)
        return None

    if kind == "import":
        random_import(book, rng, some, tmp)
        return
    try:
        result = book.run(work)
    except BookwiseError:
        return  # refused (inactive target, a cycle, an undo conflict): rolled back
    if result is not None and result.operation_id is not None:
        done.append(result.operation_id)


def random_import(book: Book, rng: random.Random, some: list[int], tmp: Path) -> None:
    """Import new mrr values and owner cells for ``some`` accounts."""
    with read_session(book.engine) as session:
        refs = {
            a.id: a.external_id
            for a in session.scalars(select(Account).where(Account.id.in_(some)))
        }
        emails = [session.get_one(User, u).email for u in book.csms]
    lines = [
        f'{refs[a]},{rng.randint(0, 5000)}.00,"{"; ".join(rng.sample(emails, rng.randint(0, 2)))}"'
        for a in some
        if refs.get(a)
    ]
    path = write_rows(tmp / f"import-{rng.randrange(10**9)}.csv", "external_id,mrr,csms", lines)
    run_import(book.engine, path)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 2**32)), min_size=1, max_size=10
    )
)
def test_random_writes_keep_the_counters_exact(
    engine: Engine, tmp_path: Path, steps: list[tuple[str, int]]
) -> None:
    """Each example builds its own small book in the (shared) database and writes at random."""
    book = Book(engine)
    done: list[int] = []
    book.assign(book.own[::2], 0)
    for kind, seed in steps:
        random_write(book, kind, random.Random(seed), done, tmp_path)
        assert counter_errors(engine) == [], f"after {kind}"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_random_write_keeps_the_counters_exact(
    engine: Engine, tmp_path: Path, kind: str
) -> None:
    """Every kind at least once, whatever hypothesis draws."""
    book = Book(engine)
    done: list[int] = []
    book.assign(book.own, 0, 1)
    rng = random.Random(kind)
    for step in ("co-assign", kind, "undo", kind):
        random_write(book, step, rng, done, tmp_path)
        assert counter_errors(engine) == [], f"after {step}"
