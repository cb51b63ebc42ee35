"""The demo generator's value history ends in every account's values and starts at its creation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from bookwise.accounts.history import values_as_of
from bookwise.db import read_session
from bookwise.demo import generate_demo
from bookwise.models import VALUE_HISTORY_FIELDS, Account, AccountValue, utcnow


def test_demo_accounts_have_their_values_as_history_from_their_creation(engine: Engine) -> None:
    generate_demo(engine, accounts=300, today=date(2026, 6, 1))

    with read_session(engine) as session:
        accounts = {a.id: a for a in session.scalars(select(Account))}
        held = {r.account_id: r for r in session.execute(values_as_of(utcnow()))}
        for account in accounts.values():
            for field in VALUE_HISTORY_FIELDS:
                assert getattr(held[account.id], field) == getattr(account, field), field
        rows = session.execute(
            select(AccountValue.account_id, AccountValue.valid_from, AccountValue.source)
        ).all()
        assert {source for _, _, source in rows} == {"demo"}
        first = {}
        for account_id, valid_from, _ in rows:
            first[account_id] = min(valid_from, first.get(account_id, valid_from))
        assert all(first[a] == account.created_at for a, account in accounts.items())
        assert any(field == "parent_id" for field in session.scalars(select(AccountValue.field)))
