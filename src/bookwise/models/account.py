"""Customer accounts, their hierarchy, and the declared custom attributes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base, JSONType, UTCDateTime, one_of, utcnow

INHERIT_POLICIES = ("inherit", "own")
ATTRIBUTE_TYPES = ("text", "number", "money", "date", "boolean", "choice")


class Account(Base):
    """A customer. ``mrr`` is in minor units; ``depth`` and ``child_count`` are maintained on
    every re-parenting (``accounts.hierarchy``)."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("health_score BETWEEN 0 AND 100", name="health_score"),
        CheckConstraint("nps BETWEEN -100 AND 100", name="nps"),
        CheckConstraint("csm_rating BETWEEN 1 AND 5", name="csm_rating"),
        CheckConstraint(one_of("inherit_policy", INHERIT_POLICIES), name="inherit_policy"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        CheckConstraint("depth >= 0", name="depth"),
        CheckConstraint("child_count >= 0", name="child_count"),
        Index("ix_accounts_tier_health", "tier", "health_score"),
        Index("ix_accounts_stage_mrr", "lifecycle_stage", "mrr"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_fold: Mapped[str] = mapped_column(String(300), index=True)
    domain: Mapped[str | None] = mapped_column(String(255))
    mrr: Mapped[int | None] = mapped_column(BigInteger, index=True)
    health_score: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[int | None] = mapped_column(Integer)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(50))
    nps: Mapped[int | None] = mapped_column(Integer)
    csm_rating: Mapped[int | None] = mapped_column(Integer)
    region: Mapped[str | None] = mapped_column(String(50))
    renewal_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # How many accounts name this one as parent: ``is_parent`` is ``child_count > 0``.
    child_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    inherit_policy: Mapped[str | None] = mapped_column(String(10))
    ownership_version: Mapped[int] = mapped_column(Integer, default=0)
    custom: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AttributeDefinition(Base):
    """A custom attribute declared once with its type (and choices for ``choice``)."""

    __tablename__ = "attribute_definitions"
    __table_args__ = (CheckConstraint(one_of("type", ATTRIBUTE_TYPES), name="type"),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(10))
    choices: Mapped[list[str] | None] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
