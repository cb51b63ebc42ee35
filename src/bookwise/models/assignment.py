"""Ownership: assignment rows (never overwritten), the per-account version chain, operations.

An assignment row is opened by one operation and closed by another; closing sets
``ended_at`` and ``ended_operation_id``, and nothing else on it ever changes.
``ownership_changes`` holds one row per (account, operation) with a version number unique
per account, so each account's history is a gap-free chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base, JSONType, UTCDateTime, one_of, utcnow

SOURCES = ("manual", "rule", "inherited", "playbook", "balancer", "import", "undo")
OPERATION_KINDS = (
    "assign",
    "unassign",
    "transfer",
    "set_policy",
    "set_parent",
    "inherit",
    "set_default_policy",
    "undo",
    "import",
    "demo",
    "deactivate",
    "take_over",
)
OPEN = text("ended_at IS NULL")


class AssignmentRole(Base):
    """An assignment role (``csm`` and any a team adds); inheritable roles follow the parent."""

    __tablename__ = "assignment_roles"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    inheritable: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(300), default="")


class Operation(Base):
    """One user action that changed ownership; every assignment row it touched points here."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    accounts_changed: Mapped[int] = mapped_column(Integer, default=0)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))


class Assignment(Base):
    """(account, user, role) from ``started_at`` until ``ended_at`` (open while NULL)."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(one_of("source", SOURCES), name="source"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="period"),
        Index(
            "uq_assignments_open",
            "account_id",
            "user_id",
            "role",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        Index(
            "uq_assignments_open_primary",
            "account_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL AND is_primary"),
            postgresql_where=text("ended_at IS NULL AND is_primary"),
        ),
        Index(
            "ix_assignments_open_by_user",
            "user_id",
            "role",
            "account_id",
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        Index("ix_assignments_account", "account_id", "started_at"),
        Index("ix_assignments_user_period", "user_id", "role", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(ForeignKey("assignment_roles.name"), default="csm")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    ended_operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OwnershipChange(Base):
    """One row per (account, operation that changed its owners); versions run 1, 2, 3…"""

    __tablename__ = "ownership_changes"
    __table_args__ = (
        Index("uq_ownership_changes_operation", "operation_id", "account_id", unique=True),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PolicyChange(Base):
    """The inherit/own policy an operation replaced on an account, so undo can restore it."""

    __tablename__ = "policy_changes"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    old_policy: Mapped[str | None] = mapped_column(String(10))
    new_policy: Mapped[str | None] = mapped_column(String(10))


class Setting(Base):
    """Installation-wide settings changed through operations (e.g. the default policy)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)


# --- scratch tables: rows live only inside the transaction of one operation -------------


class PlanRow(Base):
    """A planned open or close of one (account, user, role) within an operation."""

    __tablename__ = "ownership_plan"

    operation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    action: Mapped[str] = mapped_column(String(5), primary_key=True)  # open | close
    phase: Mapped[int] = mapped_column(SmallInteger)
    assignment_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    reason: Mapped[str] = mapped_column(String(500), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class RequestItem(Base):
    """One id or external id as the caller named it, in request order."""

    __tablename__ = "operation_items"

    operation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(100))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)


class TargetRow(Base):
    """An account the operation selected, evaluated once and (on PostgreSQL) locked."""

    __tablename__ = "operation_targets"

    operation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # An inheriting descendant locked with the targets (PostgreSQL), not itself selected.
    follower: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ScopeRow(Base):
    """An account whose inherited owners are being reconciled, and the account it follows."""

    __tablename__ = "ownership_scope"

    operation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer)
