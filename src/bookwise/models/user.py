"""People who sign in; some hold a CSM seat and can own accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from bookwise.models.base import Base, UTCDateTime, one_of, utcnow

USER_ROLES = ("admin", "manager", "viewer")
CLI_USER_EMAIL = "cli@bookwise.invalid"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def fold_name(text: str) -> str:
    """How a user's full name is matched: casefolded (ß is ss), spacing collapsed.

    The one definition of "the same name": ``users.name_fold`` holds it, and rules, imports
    and ``users.service.get_user`` compare with it.
    """
    return " ".join(text.split()).casefold()


def salesforce_18(value: str) -> str:
    """A 15-character Salesforce id in its 18-character, case-insensitive form."""
    if len(value) != 15 or not value.isalnum():
        return value
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, ch in enumerate(value[start : start + 5]) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return value + suffix


class User(Base):
    """A user; ``email_fold`` (casefolded) is the unique key, ``email`` keeps the spelling."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_fold: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # fold_name(name), kept by the validator below: full names are matched on it.
    name_fold: Mapped[str] = mapped_column(String(200), default="", server_default="", index=True)
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    csm_seat: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str | None] = mapped_column(String(200))

    @validates("name")
    def _fold_name(self, _key: str, value: str) -> str:
        # Every write path (service, import, API) keeps the fold with the name.
        self.name_fold = fold_name(value or "")
        return value

    @validates("external_id")
    def _external_id(self, _key: str, value: str | None) -> str | None:
        # A Salesforce OwnerId may come in 15 or 18 characters; store one form (the import
        # turns OwnerId cells into 18), so that both match.
        return None if value is None else salesforce_18(value)
