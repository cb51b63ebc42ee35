"""The demo's past year: value chains that hold the history's invariants and look real."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, select

from bookwise.accounts.hierarchy import recount_children
from bookwise.assignments.counters import recount_book_totals
from bookwise.assignments.history import book_on
from bookwise.db import read_session, write_session
from bookwise.demo import generate_demo
from bookwise.demo.past import PAST_DAYS, past_start
from bookwise.demo.shape import STAGES
from bookwise.models import VALUE_HISTORY_FIELDS, Account, AccountValue, Assignment, User
from bookwise.users.service import cli_user

TODAY = date(2026, 11, 22)


def chains(engine: Engine) -> tuple[dict[int, Any], dict[tuple[int, str], list[Any]]]:
    """The accounts by id, and each (account, field)'s history rows in time order."""
    with read_session(engine) as session:
        accounts = {a.id: a for a in session.execute(select(*Account.__table__.columns))}
        rows = session.execute(
            select(*AccountValue.__table__.columns).order_by(
                AccountValue.account_id, AccountValue.field, AccountValue.valid_from
            )
        )
        history: dict[tuple[int, str], list[Any]] = defaultdict(list)
        for row in rows:
            history[row.account_id, row.field].append(row)
    return accounts, history


def test_value_chains_are_contiguous_and_end_in_the_current_value(engine: Engine) -> None:
    generate_demo(engine, accounts=400, seed=5, today=TODAY)
    accounts, history = chains(engine)
    start = past_start(TODAY)
    for (account_id, field), rows in history.items():
        account = accounts[account_id]
        assert rows[0].valid_from == account.created_at, (account_id, field)
        assert rows[0].previous is None
        for before, after in pairwise(rows):
            assert before.valid_to == after.valid_from, (account_id, field)
            assert after.previous == before.value
            assert after.value != before.value, "a row that changes nothing"
            assert start < after.valid_from < start + timedelta(days=PAST_DAYS)
        assert rows[-1].valid_to is None
        current = getattr(account, field)
        stored = current.isoformat() if isinstance(current, date) else current
        assert rows[-1].value == (None if stored is None else str(stored)), (account_id, field)
    for account_id, account in accounts.items():
        for field in VALUE_HISTORY_FIELDS:
            if getattr(account, field) is not None:
                assert (account_id, field) in history


def test_the_past_looks_like_a_year_of_a_real_book(engine: Engine) -> None:
    generate_demo(engine, accounts=1000, seed=5, today=TODAY)
    accounts, history = chains(engine)
    start = past_start(TODAY)
    old = [a for a in accounts.values() if a.created_at < start]
    assert len(old) > 0.9 * len(accounts)
    health = [history[a.id, "health_score"] for a in old]
    assert all(3 <= len(rows) <= 9 for rows in health)  # 2-8 changes
    assert all(0 <= int(r.value) <= 100 for rows in health for r in rows)
    declined = sum(int(rows[0].value) > int(rows[-1].value) for rows in health)
    assert 0.2 < declined / len(old) < 0.7
    noisy = sum(
        any(
            (int(b.value) - int(c.value)) * (int(c.value) - int(d.value)) < 0
            for b, c, d in zip(rows, rows[1:], rows[2:], strict=False)
        )
        for rows in health
    )
    assert noisy > 0.3 * len(old), "trends have noise, not straight lines"
    mrr = [history[a.id, "mrr"] for a in old]
    changed = [rows for rows in mrr if len(rows) > 1]
    assert 0.6 < len(changed) / len(old) < 0.85
    downgrades = sum(int(rows[-2].value) > int(rows[-1].value) for rows in changed)
    assert 0 < downgrades < 0.2 * len(changed)
    assert all(int(r.value) > 0 for rows in mrr for r in rows)
    for account in old:
        stages = [r.value for r in history[account.id, "lifecycle_stage"]]
        assert stages == STAGES[: STAGES.index(account.lifecycle_stage) + 1]
    moments = [r.valid_from for rows in health for r in rows[1:]]
    months = {(m.year, m.month) for m in moments}
    assert len(months) >= 12, "changes spread over the year"
    assert max(moments) < start + timedelta(days=PAST_DAYS)


def test_ownership_past_keeps_the_write_path_invariants(engine: Engine) -> None:
    generate_demo(engine, accounts=1500, seed=5, today=TODAY)
    with write_session(engine) as session:
        actor = cli_user(session)
        assert not recount_book_totals(session, actor=actor, dry_run=True).differed
        assert recount_children(session, actor=actor, dry_run=True).differing == 0
        rows = session.scalars(select(Assignment)).all()
        by_account: dict[int, list[Assignment]] = defaultdict(list)
        for row in rows:
            by_account[row.account_id].append(row)
        handed_over = 0
        for account_id, owned in by_account.items():
            ended = [r for r in owned if r.ended_at is not None]
            for before in ended:
                # Whoever owned it before handed it over at that instant, to someone else.
                after = [r for r in owned if r.started_at == before.ended_at]
                assert after, account_id
                assert all(r.user_id != before.user_id for r in after)
                assert before.ended_operation_id == after[0].operation_id
                handed_over += 1
        assert handed_over > 0.05 * len(by_account)
        former = session.scalars(select(User).where(User.active.is_(False))).one()
        assert former.deactivated_at is not None
        left = former.deactivated_at.date()
        assert book_on(session, user=former, day=left - timedelta(days=2))
        assert not book_on(session, user=former, day=left + timedelta(days=1))
        hired = session.scalars(
            select(User).where(User.created_at > past_start(TODAY), User.csm_seat.is_(True))
        ).all()
        assert hired
        for user in hired:
            assert not book_on(session, user=user, day=user.created_at.date())
            assert book_on(session, user=user, day=TODAY)
