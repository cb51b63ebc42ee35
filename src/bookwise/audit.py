"""Write an audit event in the caller's transaction; every action it may record."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from bookwise.models import AuditEvent, User, utcnow


class AuditAction(StrEnum):
    """Every action an audit event records, named ``<subject>.<what happened>``.

    The list in docs/concepts.md ("Audit events") is generated from this enum and its
    descriptions (``python -m bookwise.docsections``), so the two cannot drift apart.
    """

    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_SEAT_GIVEN = "user.seat_given"
    USER_SEAT_TAKEN = "user.seat_taken"
    USER_ACTIVATED = "user.activated"
    USER_DEACTIVATED = "user.deactivated"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_PASSWORD_SET = "user.password_set"  # noqa: S105
    TOKEN_CREATED = "token.created"  # noqa: S105
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_UPDATED = "account.updated"
    ACCOUNT_MOVED = "account.moved"
    ATTRIBUTE_DECLARED = "attribute.declared"
    ATTRIBUTE_RENAMED = "attribute.renamed"
    ROLE_ADDED = "role.added"
    SEGMENT_CREATED = "segment.created"
    SEGMENT_UPDATED = "segment.updated"
    SEGMENT_DELETED = "segment.deleted"
    SEGMENT_REFRESHED = "segment.refreshed"
    HIERARCHY_RECOUNTED = "hierarchy.recounted"
    COUNTERS_RECOUNTED = "counters.recounted"

    @property
    def description(self) -> str:
        """What the action means, in one English sentence."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[AuditAction, str] = {
    AuditAction.USER_CREATED: "A user was added (by hand, through the API, by the demo or by a "
    "user import); the details hold the user's fields.",
    AuditAction.USER_UPDATED: "A user import changed an existing user's fields; the details "
    "hold the new values.",
    AuditAction.USER_SEAT_GIVEN: "A user was given a CSM seat, so they can own accounts.",
    AuditAction.USER_SEAT_TAKEN: "A user's CSM seat was taken away; their assignments stay.",
    AuditAction.USER_ACTIVATED: "A deactivated user was made active again.",
    AuditAction.USER_DEACTIVATED: "A user was deactivated (offboarded): their sessions ended and "
    "their API tokens were revoked at once, for good (reactivation gives none back); the details "
    "count the sessions ended and list the ids of the tokens revoked.",
    AuditAction.USER_ROLE_CHANGED: "A user's role (admin, manager, viewer) changed; the details "
    "hold the old and the new role.",
    AuditAction.USER_PASSWORD_SET: "A user's password was set or changed, which ended their open "
    "sessions.",
    AuditAction.TOKEN_CREATED: "An API token was created for a user.",
    AuditAction.TOKEN_REVOKED: "An API token was revoked, by hand or because its user was "
    "deactivated (then the details say so).",
    AuditAction.ACCOUNT_CREATED: "An account was added, by hand or by an account import.",
    AuditAction.ACCOUNT_UPDATED: "An account's fields or custom attributes were edited (CLI "
    "`accounts edit`, the API's PATCH, the account page's Edit form) or changed by an account "
    "import; the details hold the new values of what changed.",
    AuditAction.ACCOUNT_MOVED: "An account was moved under another parent, or made top-level "
    "(also when an undo moves it back); the details hold the old and the new parent.",
    AuditAction.ATTRIBUTE_DECLARED: "A custom account attribute was declared.",
    AuditAction.ATTRIBUTE_RENAMED: "A custom account attribute was renamed on every account.",
    AuditAction.ROLE_ADDED: "An assignment role was declared.",
    AuditAction.SEGMENT_CREATED: "A saved segment was created.",
    AuditAction.SEGMENT_UPDATED: "A saved segment's name or rule changed.",
    AuditAction.SEGMENT_DELETED: "A saved segment was deleted.",
    AuditAction.SEGMENT_REFRESHED: "A refresh changed a segment's membership; the details "
    "count the accounts that entered and left (a refresh that changes nothing is not "
    "recorded).",
    AuditAction.HIERARCHY_RECOUNTED: "A repair rewrote accounts' stored child counts that "
    "differed from the hierarchy.",
    AuditAction.COUNTERS_RECOUNTED: "A repair rewrote the overview's counters that differed from "
    "the assignments.",
}


def record_event(
    session: Session,
    *,
    actor: User,
    action: AuditAction,
    subject_type: str,
    subject_key: str | int,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to a subject (e.g. "user", "account")."""
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id,
        action=action.value,
        subject_type=subject_type,
        subject_key=str(subject_key),
        details=details or {},
    )
    session.add(event)
    return event


def audit_actions_markdown() -> str:
    """The Markdown list of every audit action and what it means (for docs/concepts.md)."""
    return "".join(f"- `{action.value}`: {action.description}\n" for action in AuditAction)
