"""Users: create, find by email, change seat/role/active."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy import Row, Select, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from bookwise.audit import AuditAction, record_event
from bookwise.errors import Conflict, InvalidInput, NotFound, Refused, invalid_input
from bookwise.models import (
    CLI_USER_EMAIL,
    USER_ROLES,
    ApiToken,
    AuditEvent,
    User,
    WebSession,
    utcnow,
)
from bookwise.models.user import fold_name
from bookwise.users.schemas import UserCreate, email_key


class _Named(Protocol):
    @property
    def email(self) -> str: ...


Person = TypeVar("Person", bound=_Named)


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


def users_named(session: Session, names: Sequence[str]) -> dict[str, list[User]]:
    """The users bearing each full name, by ``fold_name`` key, in email order.

    A name names a user when exactly one user bears it (the built-in CLI user bears none):
    the same rule as a rule's ``csm is "Ana Silva"`` and an import's owner cell.
    """
    keys = sorted({fold_name(n) for n in names} - {""})
    found: dict[str, list[User]] = {key: [] for key in keys}
    if keys:
        query = (
            select(User)
            .where(User.name_fold.in_(keys), User.is_system.is_(False))
            .order_by(User.email_fold)
        )
        for user in session.scalars(query):
            found[user.name_fold].append(user)
    return found


def get_user(session: Session, ref: str) -> User:
    """The user with this email or unique full name; NotFound, or InvalidInput if shared."""
    return get_users(session, [ref])[0]


def get_users(session: Session, refs: Sequence[str]) -> list[User]:
    """Users for each email or unique full name, in the order given.

    NotFound lists every unknown one; a name several users share is InvalidInput listing
    their emails.
    """
    keys = [email_key(r) for r in refs]
    found = {
        u.email_fold: u for u in session.scalars(select(User).where(User.email_fold.in_(keys)))
    }
    named = users_named(session, [r for r, k in zip(refs, keys, strict=True) if k not in found])
    return _resolve(refs, found, named)


def _resolve(
    refs: Sequence[str], by_email: Mapping[str, Person], by_name: Mapping[str, list[Person]]
) -> list[Person]:
    """Each ref's user: by email first, else by a full name exactly one user bears."""
    result: list[Person] = []
    missing: list[str] = []
    for ref in refs:
        key = email_key(ref)
        users = [by_email[key]] if key in by_email else by_name.get(fold_name(ref), [])
        if len(users) > 1:
            listed = ", ".join(u.email for u in users)
            raise InvalidInput(f"{ref!r} is the name of several users ({listed}); use an email")
        if users:
            result.append(users[0])
        else:
            missing.append(ref)
    if missing:
        raise NotFound(_no_such_users(missing))
    return result


PERSON_COLUMNS = (
    User.id,
    User.email,
    User.email_fold,
    User.name,
    User.name_fold,
    User.active,
    User.csm_seat,
    User.role,
    User.is_system,
)


# Kept, with the refs as expanding parameters (``people_params``): the same statement every
# time, so its compiled form and result columns are found, not matched again.
PEOPLE_NAMED = select(*PERSON_COLUMNS).where(
    or_(
        User.email_fold.in_(bindparam("people_emails", expanding=True)),
        and_(
            User.name_fold.in_(bindparam("people_names", expanding=True)),
            User.is_system.is_(False),
        ),
    )
)
"""One Core statement for the users some refs may name (by email, or by a full name no system
user bears), given ``people_params(refs)``: ``pick_people`` picks each ref's row from its
rows, and a caller may ``add_columns`` what it reads about them in the same round trip."""


def people_params(refs: Sequence[str]) -> dict[str, list[str]]:
    """The parameters of ``PEOPLE_NAMED`` for ``refs``."""
    return {
        "people_emails": sorted({email_key(r) for r in refs}),
        "people_names": sorted({fold_name(r) for r in refs} - {""}),
    }


def pick_people(refs: Sequence[str], rows: Sequence[Row[*tuple[Any, ...]]]) -> list[Row[Any]]:
    """Each ref's row of ``PEOPLE_NAMED``, by the rules of ``get_users`` (NotFound,
    InvalidInput for a shared name)."""
    by_email = {row.email_fold: row for row in rows}
    by_name: dict[str, list[Row[*tuple[Any, ...]]]] = {}
    for row in sorted(rows, key=lambda r: r.email_fold):
        if not row.is_system:
            by_name.setdefault(row.name_fold, []).append(row)
    return _resolve(refs, by_email, by_name)


def reading_copy(row: Row[Any]) -> User:
    """A User made from a ``PEOPLE_NAMED`` row, for reading only: transient (in no session),
    so it is never written; pass the session's own User as an ``actor``."""
    return User(**{column.key: getattr(row, column.key) for column in PERSON_COLUMNS})


def read_users(session: Session, refs: Sequence[str]) -> list[User]:
    """``get_users`` for reading (filters, listings): one Core statement, no ORM load; the
    users are ``reading_copy``s."""
    rows = session.connection().execute(PEOPLE_NAMED, people_params(refs)).all()
    return [reading_copy(row) for row in pick_people(refs, rows)]


def _no_such_users(missing: list[str]) -> str:
    if all("@" in ref for ref in missing):
        return f"no user with email {', '.join(missing)}"
    return f"no user with email or name {', '.join(repr(ref) for ref in missing)}"


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
    """Mark a user active or inactive (ownership consequences are handled by the caller).

    Deactivation ends the user's sessions and revokes their API tokens at once, so making
    them active again gives back no access: they sign in afresh and get new tokens. The last
    active admin is not deactivated, except by the built-in CLI user.
    """
    if user.is_system:
        raise InvalidInput("the built-in CLI user cannot be changed")
    if user.active != active:
        if not active and not actor.is_system:
            # The CLI may: whoever runs it can make an admin at once, and deactivating a
            # leaked account (docs/deploying.md) must never wait for another admin.
            refuse_last_admin(session, user=user)
        details = {} if active else end_access(session, user=user, actor=actor)
        user.active = active
        user.deactivated_at = None if active else utcnow()
        record_event(
            session,
            actor=actor,
            action=AuditAction.USER_ACTIVATED if active else AuditAction.USER_DEACTIVATED,
            subject_type="user",
            subject_key=user.email,
            details=details,
        )
    session.flush()
    return user


def end_access(session: Session, *, user: User, actor: User) -> dict[str, Any]:
    """End every session of ``user`` and revoke every live API token (one statement each).

    Each revoked token gets its own ``token.revoked`` event (written in one statement), so a
    token's history shows why it stopped working. Returns what ended, for the caller's event.
    """
    ended = session.scalars(
        delete(WebSession).where(WebSession.user_id == user.id).returning(WebSession.token_hash)
    ).all()
    revoked = sorted(
        session.scalars(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(ApiToken.id)
        )
    )
    if revoked:
        now = utcnow()
        session.execute(  # one executemany, however many tokens the user had
            insert(AuditEvent),
            [
                {
                    "at": now,
                    "actor_id": actor.id,
                    "action": AuditAction.TOKEN_REVOKED.value,
                    "subject_type": "token",
                    "subject_key": str(token_id),
                    "details": {"reason": "user deactivated"},
                }
                for token_id in revoked
            ],
        )
    return {"sessions_ended": len(ended), "tokens_revoked": revoked}


def active_admins() -> Select[int]:
    """The ids of the active admins who can sign in (the built-in CLI user cannot)."""
    return select(User.id).where(
        User.role == "admin", User.active.is_(True), User.is_system.is_(False)
    )


def locked_admin_ids(session: Session) -> list[int]:
    """The active admins' ids, their rows locked (``FOR UPDATE``, ascending ids) on PostgreSQL.

    Two admins demoting or deactivating each other at once would otherwise each count the
    other and both go through. Locked, the second waits for the first to commit and then
    counts again. SQLite needs no lock: its writers run one at a time (``BEGIN IMMEDIATE``).
    """
    return list(session.scalars(active_admins().order_by(User.id).with_for_update()))


def refuse_last_admin(session: Session, *, user: User) -> None:
    """Refused when ``user`` is the only active admin who can sign in (the CLI user cannot).

    Demoting or deactivating that admin would leave nobody able to manage users on the web.
    The active admins are locked before they are counted (``locked_admin_ids``).
    """
    if user.role != "admin" or not user.active or user.is_system:
        return
    admins = locked_admin_ids(session)
    if user.id in admins and len(admins) == 1:
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
