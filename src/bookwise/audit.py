"""Write an audit event in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bookwise.models import AuditEvent, User, utcnow


def record_event(
    session: Session,
    *,
    actor: User,
    action: str,
    subject_type: str,
    subject_key: str | int,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to a subject (e.g. "user", "account")."""
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_key=str(subject_key),
        details=details or {},
    )
    session.add(event)
    return event
