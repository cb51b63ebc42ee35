"""Plain typed factory functions for tests."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from bookwise.accounts.service import build_fields, create_account
from bookwise.models import Account, User
from bookwise.users.service import build_user, cli_user, create_user

_counter = itertools.count(1)


def make_user(
    session: Session,
    email: str | None = None,
    *,
    seat: bool = True,
    active: bool = True,
    role: str = "manager",
    name: str = "",
) -> User:
    """A user (by default an active manager with a CSM seat)."""
    n = next(_counter)
    data = build_user(
        email=email or f"csm{n}@example.com",
        name=name or f"CSM {n}",
        role=role,
        csm_seat=seat,
        active=active,
    )
    return create_user(session, data=data, actor=cli_user(session))


def make_account(
    session: Session, name: str | None = None, *, parent: Account | None = None, **fields: Any
) -> Account:
    """An account with an external id ``A<n>`` unless given."""
    n = next(_counter)
    fields.setdefault("external_id", f"A{n}")
    return create_account(
        session,
        fields=build_fields(name=name or f"Account {n}", **fields),
        parent=parent,
        actor=cli_user(session),
    )


def make_accounts(session: Session, count: int, **fields: Any) -> list[Account]:
    """``count`` standalone accounts."""
    return [make_account(session, **fields) for _ in range(count)]


def actor(session: Session) -> User:
    """The built-in CLI user, as the actor of test operations."""
    return cli_user(session)


def make_family_tree(
    session: Session, *, parents: int, children_each: int, inherit: bool = True, prefix: str = "F"
) -> tuple[list[Account], list[Account]]:
    """``parents`` top-level accounts, each with ``children_each`` children (set-based insert).

    Children get ``inherit_policy='inherit'`` when ``inherit`` is true. Returns (parents,
    children).
    """
    from sqlalchemy import insert, select

    rows = [
        {
            "external_id": f"{prefix}P{i}",
            "name": f"{prefix} parent {i}",
            "name_fold": f"{prefix} parent {i}".casefold(),
            "depth": 0,
            "child_count": children_each,
            "ownership_version": 0,
            "custom": {},
            "mrr": 100_00 * (i + 1),
        }
        for i in range(parents)
    ]
    session.execute(insert(Account), rows)
    top = list(
        session.scalars(
            select(Account).where(Account.external_id.like(f"{prefix}P%")).order_by(Account.id)
        )
    )
    child_rows = [
        {
            "external_id": f"{prefix}C{p.id}-{j}",
            "name": f"{prefix} child {p.id}-{j}",
            "name_fold": f"{prefix} child {p.id}-{j}".casefold(),
            "parent_id": p.id,
            "depth": 1,
            "ownership_version": 0,
            "custom": {},
            "inherit_policy": "inherit" if inherit else None,
        }
        for p in top
        for j in range(children_each)
    ]
    if child_rows:
        session.execute(insert(Account), child_rows)
    kids = list(
        session.scalars(
            select(Account).where(Account.external_id.like(f"{prefix}C%")).order_by(Account.id)
        )
    )
    return top, kids
