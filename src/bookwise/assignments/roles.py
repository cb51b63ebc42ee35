"""Assignment roles: ``csm`` out of the box, plus any a team adds (e.g. ``account_manager``)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.audit import AuditAction, record_event
from bookwise.errors import Conflict, InvalidInput
from bookwise.models import AssignmentRole, User

ROLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def add_role(
    session: Session, *, name: str, inheritable: bool = False, description: str = "", actor: User
) -> AssignmentRole:
    """Declare a new assignment role; inheritable roles follow the parent like ``csm``."""
    key = name.strip().casefold()
    if not ROLE_NAME.match(key):
        raise InvalidInput(
            f"role name {name!r} must start with a letter and hold only lowercase letters, "
            "digits and _ (at most 40)"
        )
    if session.get(AssignmentRole, key) is not None:
        raise Conflict(f"assignment role {key!r} already exists")
    role = AssignmentRole(name=key, inheritable=inheritable, description=description.strip())
    session.add(role)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.ROLE_ADDED,
        subject_type="role",
        subject_key=key,
        details={"inheritable": inheritable},
    )
    return role


def list_roles(session: Session) -> list[AssignmentRole]:
    """Every assignment role, by name."""
    return list(session.scalars(select(AssignmentRole).order_by(AssignmentRole.name)))
