"""Users: create, find by email, change seat/role/active."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.audit import AuditAction, record_event
from bookwise.errors import Conflict, InvalidInput, NotFound, Refused, invalid_input
from bookwise.models import CLI_USER_EMAIL, USER_ROLES, User, utcnow
from bookwise.users.schemas import UserCreate, email_key


def create_user(session: Session, *, data: UserCreate, actor: User) -> User:
    """Add a user; the email must not exist yet (case-insensitively)."""
    if find_user(session, data.email) is not None:
        raise Conflict(f"a user with email {data.email} already exists")
    user = User(
        email=data.email,
        email_fold=email_key(data.email),
        name=data.name,
        role=data.role,
        csm_seat=data.csm_seat,
        active=data.active,
        external_id=data.external_id,
        deactivated_at=None if data.active else utcnow(),
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.USER_CREATED,
        subject_type="user",
        subject_key=user.email,
        details=data.model_dump(exclude={"email"}),
    )
    return user


def build_user(**fields: object) -> UserCreate:
    """Validate user fields, turning pydantic's errors into one clear InvalidInput."""
    try:
        return UserCreate.model_validate(fields)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def find_user(session: Session, email: str) -> User | None:
    """The user with this email (case-insensitive), or None."""
    return session.scalar(select(User).where(User.email_fold == email_key(email)))


def get_user(session: Session, email: str) -> User:
    """The user with this email, or NotFound naming it."""
    user = find_user(session, email)
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user


def get_users(session: Session, emails: Sequence[str]) -> list[User]:
    """Users for each email, in the order given; NotFound lists every unknown email."""
    keys = [email_key(e) for e in emails]
    found = {
        u.email_fold: u for u in session.scalars(select(User).where(User.email_fold.in_(keys)))
    }
    missing = [e for e, k in zip(emails, keys, strict=True) if k not in found]
    if missing:
        raise NotFound(f"no user with email {', '.join(missing)}")
    return [found[k] for k in keys]


def cli_user(session: Session) -> User:
    """The built-in user that CLI writes are attributed to when no --as is given."""
    return get_user(session, CLI_USER_EMAIL)


def list_users(session: Session, *, include_inactive: bool = True) -> list[User]:
    """Every human user, by email."""
    query = select(User).where(User.is_system.is_(False)).order_by(User.email_fold)
    if not include_inactive:
        query = query.where(User.active.is_(True))
    return list(session.scalars(query))


def set_csm_seat(session: Session, *, user: User, seat: bool, actor: User) -> User:
    """Give or take the CSM seat; existing assignments stay (new ones are refused)."""
    if user.csm_seat != seat:
        user.csm_seat = seat
        record_event(
            session,
            actor=actor,
            action=AuditAction.USER_SEAT_GIVEN if seat else AuditAction.USER_SEAT_TAKEN,
            subject_type="user",
            subject_key=user.email,
        )
    session.flush()
    return user


def set_active(session: Session, *, user: User, active: bool, actor: User) -> User:
    """Mark a user active or inactive (ownership consequences are handled by the caller)."""
    if user.is_system:
        raise InvalidInput("the built-in CLI user cannot be changed")
    if user.active != active:
        user.active = active
        user.deactivated_at = None if active else utcnow()
        record_event(
            session,
            actor=actor,
            action=AuditAction.USER_ACTIVATED if active else AuditAction.USER_DEACTIVATED,
            subject_type="user",
            subject_key=user.email,
        )
    session.flush()
    return user


def refuse_last_admin(session: Session, *, user: User) -> None:
    """Refused when ``user`` is the only active admin who can sign in (the CLI user cannot).

    Demoting or deactivating that admin would leave nobody able to manage users on the web.
    """
    if user.role != "admin" or not user.active or user.is_system:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.role == "admin",
            User.active.is_(True),
            User.is_system.is_(False),
            User.id != user.id,
        )
    )
    if not others:
        raise Refused(f"{user.email} is the last active admin; make another user an admin first")


def set_role(session: Session, *, user: User, role: str, actor: User) -> User:
    """Change a user's role (admin, manager, viewer); the last active admin keeps theirs."""
    if role not in USER_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(USER_ROLES)}, not {role!r}")
    if user.is_system:
        raise InvalidInput("the built-in CLI user cannot be changed")
    if user.role == role:
        return user
    refuse_last_admin(session, user=user)
    old, user.role = user.role, role
    record_event(
        session,
        actor=actor,
        action=AuditAction.USER_ROLE_CHANGED,
        subject_type="user",
        subject_key=user.email,
        details={"old": old, "new": role},
    )
    session.flush()
    return user
