"""The demo admin: a known user and password, so that ``make run`` can be signed into at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bookwise.auth.service import password_matches, set_password
from bookwise.errors import Conflict
from bookwise.models import User
from bookwise.users.service import (
    build_user,
    create_user,
    find_user,
    set_active,
    set_csm_seat,
    set_role,
)

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "bookwise-demo"  # noqa: S105 - published on purpose: it is the demo's


@dataclass(frozen=True)
class DemoAdmin:
    """What ``ensure_demo_admin`` did, and the credentials to print."""

    email: str
    password: str
    created: bool
    changes: list[str] = field(default_factory=list)


def ensure_demo_admin(session: Session, *, reset: bool = False, actor: User) -> DemoAdmin:
    """Make ``admin@example.com`` an active admin with a CSM seat and the demo password.

    A user of that email with another password (or none) is someone's real account: it is
    refused unless ``reset`` is given, which sets the demo password again.
    """
    user = find_user(session, DEMO_ADMIN_EMAIL)
    if user is None:
        data = build_user(email=DEMO_ADMIN_EMAIL, name="Demo Admin", role="admin", csm_seat=True)
        user = create_user(session, data=data, actor=actor)
        set_password(session, user=user, password=DEMO_ADMIN_PASSWORD, actor=actor)
        return DemoAdmin(email=user.email, password=DEMO_ADMIN_PASSWORD, created=True)
    changes: list[str] = []
    if not password_matches(user, DEMO_ADMIN_PASSWORD):
        if not reset:
            raise Conflict(
                f"{user.email} already exists with another password; run "
                "`bookwise demo-admin --reset` to set the demo password again"
            )
        set_password(session, user=user, password=DEMO_ADMIN_PASSWORD, actor=actor)
        changes.append("password reset")
    if not user.active:
        set_active(session, user=user, active=True, actor=actor)
        changes.append("activated")
    if user.role != "admin":
        set_role(session, user=user, role="admin", actor=actor)
        changes.append("made admin")
    if not user.csm_seat:
        set_csm_seat(session, user=user, seat=True, actor=actor)
        changes.append("CSM seat given")
    return DemoAdmin(email=user.email, password=DEMO_ADMIN_PASSWORD, created=False, changes=changes)
