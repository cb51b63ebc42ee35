"""Migration 0015 gives every existing account its current values as its first history rows."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bookwise.accounts.history import values_as_of
from bookwise.migrate import upgrade_database
from bookwise.models import AccountValue
from bookwise.models.base import utcnow
from tests.test_migration_0011 import upgrade_to
from tests.test_migrations import downgrade_database, empty_engine  # noqa: F401


def test_existing_accounts_get_their_values_as_first_history_rows(
    empty_engine: Engine,  # noqa: F811
) -> None:
    upgrade_to(empty_engine, "0014")
    with empty_engine.begin() as connection:
        insert = text(
            "INSERT INTO accounts (id, name, name_fold, mrr, health_score, tier, region,"
            " renewal_date, parent_id, depth, child_count, ownership_version, custom, created_at)"
            " VALUES (:id, :n, :n, :mrr, :h, NULL, :r, :d, :p, :depth, 0, 0, '{}', :at)"
        )
        connection.execute(
            insert,
            [
                {
                    "id": 1,
                    "n": "top",
                    "mrr": 120000,
                    "h": 80,
                    "r": "EMEA",
                    "d": date(2027, 3, 31),
                    "p": None,
                    "depth": 0,
                    "at": "2026-01-02 03:04:05.000000",
                },
                {
                    "id": 2,
                    "n": "child",
                    "mrr": None,
                    "h": None,
                    "r": None,
                    "d": None,
                    "p": 1,
                    "depth": 1,
                    "at": "2026-02-01 00:00:00.000000",
                },
            ],
        )

    upgrade_database(empty_engine)

    with Session(empty_engine) as session:
        rows = session.execute(
            select(
                AccountValue.account_id,
                AccountValue.field,
                AccountValue.value,
                AccountValue.source,
                AccountValue.valid_to,
            ).order_by(AccountValue.account_id, AccountValue.field)
        ).all()
        assert rows == [
            (1, "health_score", "80", "backfill", None),
            (1, "mrr", "120000", "backfill", None),
            (1, "region", "EMEA", "backfill", None),
            (1, "renewal_date", "2027-03-31", "backfill", None),
            (2, "parent_id", "1", "backfill", None),
        ]
        first = session.scalar(select(AccountValue.valid_from).where(AccountValue.account_id == 1))
        assert first is not None
        assert first.isoformat() == "2026-01-02T03:04:05+00:00"
        now = {r.account_id: r for r in session.execute(values_as_of(utcnow()))}
        assert (now[1].mrr, now[1].renewal_date, now[1].tier) == (120000, date(2027, 3, 31), None)
        assert now[2].parent_id == 1

    downgrade_database(empty_engine, "0014")
    upgrade_database(empty_engine)
