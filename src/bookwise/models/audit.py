"""Audit events for changes that are not ownership (users, tokens, accounts, attributes, roles,
segments). ``action`` holds a ``bookwise.audit.AuditAction`` value: ``record_event`` takes
nothing else, and the import's bulk insert spells its actions with the same enum.

Ownership has its own, richer history (assignment rows, operations, the version chain).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base, JSONType, UTCDateTime, utcnow


class AuditEvent(Base):
    """Who did what to which object, when, with the values that changed."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_key: Mapped[str] = mapped_column(String(320))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
