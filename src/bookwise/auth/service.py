"""Passwords (argon2), browser sessions, API tokens, and the sign-in rate limit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bookwise.audit import AuditAction, record_event
from bookwise.db import is_sqlite
from bookwise.errors import BookwiseError, InvalidInput, NotFound
from bookwise.models import ApiToken, LoginCounter, User, WebSession, utcnow
from bookwise.users.schemas import email_key

SESSION_DAYS = 14
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000
MAX_EMAIL_LENGTH = 320  # what users.email holds
TOKEN_PREFIX = "bw_"  # noqa: S105 - a label that marks bookwise tokens, not a secret

_hasher = PasswordHasher()
# Verifying against this keeps an unknown email as slow as a wrong password (no user probing).
# Made on first use, not at import: hashing takes a third of a second, which every CLI command
# importing this module (tokens, users) paid before it did anything. The web app makes it when
# it starts, so that no sign-in is the one that pays for it.
_DUMMY_HASH: str | None = None


def dummy_password_hash() -> str:
    """The hash an unknown email's password is checked against (the web app makes it early)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("bookwise-dummy-password")
    return _DUMMY_HASH


class SignInFailed(BookwiseError):
    """Wrong email or password (never says which)."""

    status_code = 401
    type = "sign-in-failed"
    title = "Sign-in failed"


class TooManyAttempts(BookwiseError):
    """Too many failed sign-ins from this email or address: wait and try again."""

    status_code = 429
    type = "too-many-attempts"
    title = "Too many attempts"


def token_hash(token: str) -> str:
    """The stored form of a session or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(session: Session, *, user: User, password: str, actor: User) -> None:
    """Set a user's password (argon2id, 10 to 1,000 characters); signs out their browsers."""
    if user.is_system:
        raise InvalidInput(f"{user.email} is the built-in CLI user and cannot sign in")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"a password may have at most {MAX_PASSWORD_LENGTH:,} characters")
    user.password_hash = _hasher.hash(password)
    # A new password is often a reaction to a leaked one: every open session ends with it.
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.USER_PASSWORD_SET,
        subject_type="user",
        subject_key=user.email,
    )


def password_matches(user: User, password: str) -> bool:
    """True when ``password`` is the user's password (no rate limit, nothing recorded)."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _counter_keys(email: str, address: str) -> list[str]:
    # The email is hashed: a key of fixed length whatever was typed, and no email kept.
    digest = hashlib.sha256(email_key(email).encode()).hexdigest()
    return [f"e:{digest}", f"a:{address[:64]}"]


def count_failures(session: Session, keys: list[str]) -> int:
    """Add one attempt to each counter and return the highest count: one atomic upsert.

    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite 3.35+, PostgreSQL): a parallel
    attempt on the same counter waits for this one's row and then adds to its count, so no
    two attempts read the same number. A counter whose window has passed starts again at 1.
    """
    now = utcnow()
    insert = sqlite_insert if is_sqlite(session) else postgresql_insert
    values = insert(LoginCounter).values(
        [{"key": key, "window_started": now, "failures": 1} for key in keys]
    )
    current = LoginCounter.window_started >= now - FAILURE_WINDOW
    upsert = values.on_conflict_do_update(
        index_elements=[LoginCounter.key],
        set_={
            "failures": case((current, LoginCounter.failures + 1), else_=1),
            "window_started": case((current, LoginCounter.window_started), else_=now),
        },
    ).returning(LoginCounter.failures)
    return max(int(count) for count in session.scalars(upsert))


def count_attempt(session: Session, *, email: str, address: str) -> None:
    """Count a sign-in attempt as a failure before its password is checked.

    Refused (TooManyAttempts) once the email or the address has 10 failures in its 15-minute
    window: no password is hashed then. ``check_password`` takes the attempt back when the
    password is right. The web form commits this on its own, so the counters are not held
    locked while a password is hashed.
    """
    if count_failures(session, _counter_keys(email, address)) > MAX_FAILURES:
        raise TooManyAttempts(
            f"too many failed sign-ins; try again in {FAILURE_WINDOW.seconds // 60} minutes"
        )


def check_password(session: Session, *, email: str, password: str, address: str) -> User:
    """The active user with this email and password, for an attempt ``count_attempt`` counted.

    An email or a password longer than any that can exist is refused without hashing.
    """
    if len(email_key(email)) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        raise SignInFailed("wrong email or password")
    user = session.scalar(select(User).where(User.email_fold == email_key(email)))
    stored = (user.password_hash if user is not None else None) or dummy_password_hash()
    good: bool
    try:
        good = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        good = False
    if not good or user is None or not user.active or user.is_system or not user.password_hash:
        raise SignInFailed("wrong email or password")  # the attempt stays counted
    now = utcnow()
    session.execute(
        update(LoginCounter)
        .where(LoginCounter.key.in_(_counter_keys(email, address)), LoginCounter.failures > 0)
        .values(failures=LoginCounter.failures - 1)
    )
    # Counters of past windows count for nothing: drop them rather than keep them forever.
    session.execute(delete(LoginCounter).where(LoginCounter.window_started < now - FAILURE_WINDOW))
    if _hasher.check_needs_rehash(stored):
        # Hashed with older parameters: store it again with today's (the password is at hand).
        user.password_hash = _hasher.hash(password)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str, address: str) -> User:
    """``count_attempt`` then ``check_password`` in one transaction; a failure stays counted."""
    count_attempt(session, email=email, address=address)
    return check_password(session, email=email, password=password, address=address)


@dataclass(frozen=True)
class NewSession:
    """A session just started: the cookie value and the CSRF token for its forms."""

    token: str
    csrf_token: str
    expires_at: datetime


def start_session(session: Session, *, user: User) -> NewSession:
    """Start a browser session for ``user`` (also clears expired sessions)."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + timedelta(days=SESSION_DAYS)
    session.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return NewSession(token=token, csrf_token=csrf, expires_at=expires)


def session_user(session: Session, token: str) -> tuple[User, WebSession] | None:
    """The active user of a live session, and the session; None for anything else."""
    row = session.get(WebSession, token_hash(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def end_session(session: Session, token: str) -> None:
    """Sign out: the session's row is deleted, so the cookie is dead everywhere."""
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


@dataclass(frozen=True)
class NewToken:
    """An API token just created: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def create_token(session: Session, *, user: User, name: str, actor: User) -> NewToken:
    """Create an API token for ``user``; only its hash is kept."""
    if user.is_system or not user.active:
        raise InvalidInput(f"{user.email} is inactive or built in and cannot have API tokens")
    label = name.strip()
    if not label or len(label) > 100:
        raise InvalidInput("a token name must be 1 to 100 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=label,
        token_hash=token_hash(secret),
        prefix=secret[:10],
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.TOKEN_CREATED,
        subject_type="token",
        subject_key=row.id,
        details={"user": user.email, "name": label},
    )
    return NewToken(token=row, secret=secret)


def list_tokens(session: Session, *, user: User | None = None) -> list[ApiToken]:
    """API tokens (of one user, or all), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def list_tokens_with_owners(
    session: Session, *, user: User | None = None
) -> list[tuple[ApiToken, str]]:
    """API tokens with their owner's email (of one user, or all), newest first."""
    query = (
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id.desc())
    )
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return [(token, email) for token, email in session.execute(query)]


def get_token(session: Session, token_id: int) -> tuple[ApiToken, User]:
    """An API token and its user, or NotFound naming the id."""
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    found = session.execute(query.where(ApiToken.id == token_id)).one_or_none()
    if found is None:
        raise NotFound(f"no API token {token_id} (see `bookwise tokens list`)")
    return found[0], found[1]


def revoke_token(session: Session, *, token_id: int, actor: User) -> ApiToken:
    """Revoke a token: it fails from the next request on."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        session.refresh(row)
        record_event(
            session,
            actor=actor,
            action=AuditAction.TOKEN_REVOKED,
            subject_type="token",
            subject_key=row.id,
        )
    return row


def token_user(session: Session, secret: str) -> User | None:
    """The active user a live API token belongs to, else None."""
    # One statement: every API request pays this before its own work.
    return session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_hash(secret),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
