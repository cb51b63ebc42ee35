"""The last-admin guard holds when two admins demote or deactivate each other at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

import bookwise.users.service as users
from bookwise.assignments.offboarding import deactivate_user
from bookwise.db import is_sqlite, read_session, write_session
from bookwise.errors import Refused
from bookwise.models import User
from bookwise.users.service import cli_user, get_user, set_active, set_role
from tests.factories import make_user
from tests.helpers import race

TRIALS = 5
Change = Callable[[Session, User, User], object]
CHANGES: dict[str, Change] = {
    "demote": lambda s, user, actor: set_role(s, user=user, role="viewer", actor=actor),
    "deactivate": lambda s, user, actor: deactivate_user(s, user=user, actor=actor, keep=True),
}


def _unlocked_admin_ids(session: Session) -> list[int]:
    """The guard as it was: the active admins read without a lock."""
    return list(session.scalars(users.active_admins().order_by(User.id)))


def _trial(engine: Engine, change: Change, n: int) -> int:
    """Two admins change each other at once; returns how many active admins are left."""
    with write_session(engine) as session:
        # The admins of earlier trials step down (directly: this is setup, not the subject).
        session.execute(update(User).where(User.is_system.is_(False)).values(role="viewer"))
        a = make_user(session, f"a{n}@example.com", role="admin").email
        b = make_user(session, f"b{n}@example.com", role="admin").email

    def work(target: str, acting: str) -> Callable[[Session, Callable[[], None]], None]:
        def run(session: Session, meet: Callable[[], None]) -> None:
            user, actor = get_user(session, target), get_user(session, acting)
            meet()
            change(session, user, actor)

        return run

    errors = race(engine, [work(a, b), work(b, a)], tolerated=(Refused,))
    assert not errors, errors
    with read_session(engine) as session:
        left = session.scalar(
            select(func.count()).where(
                User.role == "admin",
                User.active.is_(True),
                User.is_system.is_(False),
            )
        )
    return int(left or 0)


@pytest.mark.parametrize("kind", CHANGES)
def test_two_admins_changing_each_other_at_once_leave_one(engine: Engine, kind: str) -> None:
    left = [_trial(engine, CHANGES[kind], n) for n in range(TRIALS)]
    assert left == [1] * TRIALS


@pytest.mark.parametrize("kind", CHANGES)
def test_without_the_lock_the_race_leaves_no_admin(
    engine: Engine, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard's teeth: read the admins without locking them, and both changes go through."""
    if is_sqlite(engine):
        pytest.skip("SQLite's guard is BEGIN IMMEDIATE (one writer at a time), proven elsewhere")
    monkeypatch.setattr(users, "locked_admin_ids", _unlocked_admin_ids)
    left = [_trial(engine, CHANGES[kind], n) for n in range(TRIALS)]
    assert 0 in left, f"{left}: an admin always survived without the lock: no teeth"


def test_deactivating_the_last_admin_is_refused_on_every_path(session: Session) -> None:
    admin = make_user(session, "root@example.com", role="admin")
    with pytest.raises(Refused, match="last active admin"):
        set_active(session, user=admin, active=False, actor=admin)
    with pytest.raises(Refused, match="last active admin"):
        deactivate_user(session, user=admin, actor=admin, keep=True)
    assert admin.active
    # The CLI may: whoever runs it can make an admin again at once.
    set_active(session, user=admin, active=False, actor=cli_user(session))
    assert not admin.active
