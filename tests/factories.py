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
    return create_user(session, data=data)


def make_account(
    session: Session, name: str | None = None, *, parent: Account | None = None, **fields: Any
) -> Account:
    """An account with an external id ``A<n>`` unless given."""
    n = next(_counter)
    fields.setdefault("external_id", f"A{n}")
    return create_account(
        session, fields=build_fields(name=name or f"Account {n}", **fields), parent=parent
    )


def make_accounts(session: Session, count: int, **fields: Any) -> list[Account]:
    """``count`` standalone accounts."""
    return [make_account(session, **fields) for _ in range(count)]


def actor(session: Session) -> User:
    """The built-in CLI user, as the actor of test operations."""
    return cli_user(session)
