"""SQL predicates of ownership, shared by listings, bulk selections and the rule language.

Ownership words (docs/concepts.md, "Listings: the assignment screen"): an account is
*assigned to X* when X has an open row; *no-one* when no active user has an open row in the
role. ``owned_by_anyone_active`` and ``active_owner_count`` are also what the rule language
compiles ``csm is empty`` and ``csm count`` to, so "no-one" means the same in a rule as on the
assignment screen.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, exists, func, select

from bookwise.models import Account, Assignment, User

Who = Literal["no-one", "others", "all"]
WHO_CHOICES: tuple[Who, ...] = ("no-one", "others", "all")


def owned_by(user_id: Any, role: str = "csm") -> ColumnElement[bool]:
    """SQL: ``user_id`` has an open ``role`` row on the account."""
    # IN over the user's book (a partial index range), not a correlated EXISTS per account:
    # the book is small next to the table, and NOT IN becomes one hash/ephemeral lookup.
    return Account.id.in_(
        select(Assignment.account_id).where(
            Assignment.user_id == user_id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
        )
    )


def owned_by_anyone_active(role: str = "csm", *, account: Any = Account) -> ColumnElement[bool]:
    """SQL: some active user has an open ``role`` row on ``account`` (or an alias of it)."""
    # A join, not ``user_id IN (active users)``: with IN, SQLite probes the unique index
    # once per active user for every account (200× the work at 200 CSMs).
    return exists(_active_owner_rows(select(Assignment.id), role, account))


def active_owner_count(role: str = "csm", *, account: Any = Account) -> ColumnElement[int]:
    """SQL: how many active users own ``account`` in ``role`` (a scalar subquery)."""
    counted = _active_owner_rows(select(func.count(Assignment.id)), role, account)
    return counted.scalar_subquery()


def _active_owner_rows(query: Select[Any], role: str, account: Any) -> Select[Any]:
    return (
        query.join(User, User.id == Assignment.user_id)
        .where(
            Assignment.account_id == account.id,
            Assignment.role == role,
            Assignment.ended_at.is_(None),
            User.active.is_(True),
        )
        # Correlated with the account only, even inside a statement that joins assignments.
        .correlate(account)
    )


def account_ids(where: list[ColumnElement[bool]]) -> Select[Any]:
    """A Select of the ids of every account matching ``where`` (a selection for bulk work)."""
    return select(Account.id).where(*where)
