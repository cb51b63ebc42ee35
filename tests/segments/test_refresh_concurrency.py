"""Concurrent refreshes of one segment, and proof that the segment lock is what keeps them apart.

The guard: on PostgreSQL, ``refresh_segments`` locks the segment's row (``FOR UPDATE``,
``bookwise.segments.service.lock_segment``) before it reads the current stays. Without it,
two refreshes both see no open stay for an account that entered and both open one; the
partial unique index ``uq_segment_memberships_current`` makes the second fail. Each test runs
as shipped and with the lock removed, and the second run must observe that failure.

The interleavings are scripted, not timed: a refresh keeps its transaction open until the
others are seen waiting for a lock in ``pg_stat_activity``, and only then commits.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bookwise.db import read_session, write_session
from bookwise.models import SegmentMembership
from bookwise.segments import service
from bookwise.segments.rules import segment_selection
from bookwise.segments.service import RefreshResult, create_segment, get_segment, refresh_segments
from tests.factories import actor, make_accounts

pytestmark = pytest.mark.skipif(
    not os.environ.get("BOOKWISE_TEST_DATABASE_URL"),
    reason="SQLite admits one writer at a time (BEGIN IMMEDIATE), so two refreshes cannot "
    "interleave; the guard under test is PostgreSQL's segment row lock",
)
GUARD = pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "unguarded"])
SEGMENT = "Tier one"
MEMBERS = 20
THREADS = 8
INDEX = "uq_segment_memberships_current"

Outcome = RefreshResult | Exception


def build(engine: Engine) -> None:
    """20 accounts in segment "Tier one" (tier = 1) and 5 outside; nothing refreshed yet."""
    with write_session(engine) as session:
        make_accounts(session, MEMBERS, tier=1)
        make_accounts(session, 5, tier=2)
        create_segment(session, name=SEGMENT, rule="tier = 1", actor=actor(session))


def remove_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the segment lock away for the rest of the test."""
    monkeypatch.setattr(service, "lock_segment", lambda _session, _segment_id: None)


def refresh(session: Session) -> RefreshResult:
    (result,) = refresh_segments(session, names=[SEGMENT], actor=actor(session))
    return result


def refresh_in_own_transaction(engine: Engine) -> RefreshResult:
    with write_session(engine) as session:
        return refresh(session)


def lock_waiters(engine: Engine, statement: str) -> int:
    """Sessions of this database waiting for a lock in a statement LIKE ``statement``."""
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE :statement"
                ),
                {"statement": statement},
            )
            or 0
        )


def wait_for_lock_waiters(
    engine: Engine, statement: str, count: Callable[[], int], *, unless: Future[Any] | None
) -> None:
    """Return once ``count()`` sessions wait for a lock in ``statement`` (or ``unless`` ended)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if lock_waiters(engine, statement) >= count() or (unless is not None and unless.done()):
            return
        time.sleep(0.01)
    with engine.connect() as conn:
        activity = conn.execute(
            text(
                "SELECT state, wait_event_type, wait_event, left(query, 100) "
                "FROM pg_stat_activity WHERE datname = current_database()"
            )
        ).all()
    raise AssertionError(f"expected {count()} lock waiters in {statement!r}: {activity}")


def membership_problems(engine: Engine) -> list[str]:
    """Duplicate open stays, and open stays that differ from the live members."""
    with read_session(engine) as session:
        segment_id = get_segment(session, SEGMENT).id
        duplicates = session.execute(
            select(SegmentMembership.account_id, func.count())
            .where(SegmentMembership.segment_id == segment_id, SegmentMembership.left_at.is_(None))
            .group_by(SegmentMembership.account_id)
            .having(func.count() > 1)
        ).all()
        open_stays = set(
            session.scalars(
                select(SegmentMembership.account_id).where(
                    SegmentMembership.segment_id == segment_id,
                    SegmentMembership.left_at.is_(None),
                )
            )
        )
        live = set(session.scalars(segment_selection(session, SEGMENT).ids))
    problems = [f"[duplicate] account {a}: {n} open stays" for a, n in duplicates]
    if open_stays != live:
        problems.append(f"[stays] open {sorted(open_stays)}, live members {sorted(live)}")
    return problems


def error_problems(outcomes: list[Outcome]) -> list[str]:
    errors = [o for o in outcomes if isinstance(o, Exception)]
    return [f"[error] {type(e).__name__}: {str(e).splitlines()[0]}" for e in errors]


def assert_unique_violations(outcomes: list[Outcome]) -> None:
    """Without the lock, the refreshes that lost the race fail on the partial unique index."""
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors, "every refresh succeeded without the lock: the test has no teeth"
    for error in errors:
        assert isinstance(error, IntegrityError), repr(error)
        assert INDEX in str(error)


@GUARD
def test_a_refresh_that_waits_for_another_opens_no_stay_twice(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, guarded: bool
) -> None:
    """The first refresh opens 20 stays and holds its transaction; the second runs meanwhile.

    Guarded, the second waits on the segment's row lock and, once the first commits, sees its
    stays and opens none. Unguarded, it reads no open stay, tries to open the same 20, waits on
    the unique index for the first's uncommitted rows, and fails when the first commits.
    """
    build(engine)
    if not guarded:
        remove_lock(monkeypatch)
    # Where the second refresh waits tells which guard stopped it.
    blocked_in = "SELECT segments.id%FOR UPDATE%" if guarded else "INSERT INTO segment_memberships%"
    with ThreadPoolExecutor(1) as background:
        with write_session(engine) as session:
            first = refresh(session)
            second = background.submit(refresh_in_own_transaction, engine)
            wait_for_lock_waiters(engine, blocked_in, lambda: 1, unless=second)
            assert not second.done(), second.exception() or second.result()
        error = second.exception()
        outcome: Outcome = error if isinstance(error, Exception) else second.result()

    assert (first.entered, first.left, first.members) == (MEMBERS, 0, MEMBERS)
    problems = membership_problems(engine) + error_problems([outcome])
    print(f"one waits for another, guarded={guarded}: {problems}")
    if guarded:
        assert problems == []
        assert isinstance(outcome, RefreshResult)
        assert (outcome.entered, outcome.left, outcome.members) == (0, 0, MEMBERS)
        assert outcome.refreshed_at > first.refreshed_at
    else:
        assert_unique_violations([outcome])
        assert membership_problems(engine) == []  # the index caught it; the first's stays stand


@GUARD
def test_many_refreshes_at_once_open_each_stay_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, guarded: bool
) -> None:
    """8 transactions refresh the segment at once; each holds its work uncommitted until every
    other one still running is blocked behind it, so the race is as wide as it can be."""
    build(engine)
    if not guarded:
        remove_lock(monkeypatch)
    start_line = threading.Barrier(THREADS)
    finished: list[int] = []
    counting = threading.Lock()

    def others_running() -> int:
        with counting:
            return THREADS - 1 - len(finished)

    def racer(index: int) -> Outcome:
        start_line.wait()
        try:
            with write_session(engine) as session:
                result = refresh(session)
                wait_for_lock_waiters(engine, "%", others_running, unless=None)
            return result
        except Exception as exc:  # every error is a finding
            return exc
        finally:
            with counting:
                finished.append(index)

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(racer, range(THREADS)))

    results = [o for o in outcomes if isinstance(o, RefreshResult)]
    problems = membership_problems(engine) + error_problems(outcomes)
    print(f"{THREADS} at once, guarded={guarded}: {problems}")
    if guarded:
        assert problems == []
        assert sorted(r.entered for r in results) == [0] * (THREADS - 1) + [MEMBERS]
        assert {r.members for r in results} == {MEMBERS}
    else:
        assert_unique_violations(outcomes)
        assert len(results) == 1  # the one that inserted first; every other one failed
        assert membership_problems(engine) == []
