"""Sign-in: browser sessions, API tokens, failed-login records and idempotent requests.

Secrets are never stored: sessions and tokens are kept as SHA-256 hashes of random values
(they are long and random, so a slow hash adds nothing); passwords as argon2 hashes on users.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bookwise.models.base import Base, JSONType, UTCDateTime, utcnow


class WebSession(Base):
    """A signed-in browser: the cookie carries the token, the row its hash and CSRF secret."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A token for scripts; shown once, stored as a hash, dead once revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginCounter(Base):
    """Failed sign-ins of one email or one address in the current 15-minute window.

    The sign-in limit counts here: one upsert adds an attempt and returns the count before any
    password is checked, so parallel guesses cannot all read the same count. ``key`` is
    ``e:`` and the SHA-256 of the casefolded email (any length fits, and no address is kept),
    or ``a:`` and the client address.
    """

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_started: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    failures: Mapped[int] = mapped_column(Integer)


class IdempotentRequest(Base):
    """The first response to a request sent with an ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotent_requests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
