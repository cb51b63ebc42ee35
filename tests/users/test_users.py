"""Users: case-insensitive unique emails, validation, lookups."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.errors import Conflict, InvalidInput, NotFound, Refused
from bookwise.models import AuditEvent
from bookwise.users.service import (
    build_user,
    cli_user,
    create_user,
    get_user,
    get_users,
    list_users,
    set_active,
    set_role,
)
from tests.factories import make_user


def test_emails_are_unique_whatever_their_case(session: Session) -> None:
    make_user(session, "Maria.Lopez@Example.com")
    with pytest.raises(Conflict, match="already exists"):
        create_user(
            session, data=build_user(email="maria.lopez@example.COM"), actor=cli_user(session)
        )
    assert get_user(session, "MARIA.LOPEZ@example.com").email == "Maria.Lopez@example.com"


def test_unicode_emails_fold_like_people_expect(session: Session) -> None:
    user = make_user(session, "STRASSE@example.com")
    assert get_user(session, "strasse@EXAMPLE.com") is user


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "email: 'not-an-email' is not a valid email"),
        ({"email": "a@example.com", "role": "owner"}, "role"),
    ],
)
def test_bad_user_input_is_explained(fields: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_user(**fields)


def test_lookups_name_every_unknown_email(session: Session) -> None:
    a = make_user(session, "a@example.com")
    with pytest.raises(NotFound, match=r"b@example\.com, c@example\.com"):
        get_users(session, ["a@example.com", "b@example.com", "c@example.com"])
    assert get_users(session, ["A@example.com"]) == [a]


def test_the_cli_user_is_built_in_and_not_listed(session: Session) -> None:
    me = cli_user(session)
    assert me.is_system
    assert me not in list_users(session)
    with pytest.raises(InvalidInput):
        set_active(session, user=me, active=False, actor=me)


def test_deactivation_is_recorded(session: Session) -> None:
    user = make_user(session)
    set_active(session, user=user, active=False, actor=cli_user(session))
    assert not user.active
    assert user.deactivated_at is not None
    assert list_users(session, include_inactive=False) == []


def test_user_changes_are_audited_with_their_actor(session: Session) -> None:
    from sqlalchemy import select

    from bookwise.models import AuditEvent
    from bookwise.users.service import set_csm_seat

    admin = make_user(session, "admin@example.com", role="admin")
    user = make_user(session, "u@example.com", seat=False)
    set_csm_seat(session, user=user, seat=True, actor=admin)
    set_csm_seat(session, user=user, seat=True, actor=admin)  # no change, no event
    set_active(session, user=user, active=False, actor=admin)
    events = session.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.subject_key == "u@example.com")
        .order_by(AuditEvent.id)
    ).all()
    assert [(a, who) for a, who in events] == [
        ("user.created", cli_user(session).id),
        ("user.seat_given", admin.id),
        ("user.deactivated", admin.id),
    ]


def test_set_role_is_audited_and_the_last_active_admin_keeps_theirs(session: Session) -> None:
    admin = make_user(session, "root@example.com", role="admin")
    other = make_user(session, "pat@example.com", role="viewer")
    assert set_role(session, user=other, role="manager", actor=admin).role == "manager"
    with pytest.raises(Refused, match="last active admin"):
        set_role(session, user=admin, role="viewer", actor=admin)
    set_role(session, user=other, role="admin", actor=admin)
    assert set_role(session, user=admin, role="viewer", actor=other).role == "viewer"
    with pytest.raises(InvalidInput, match="role must be one of"):
        set_role(session, user=other, role="owner", actor=other)
    with pytest.raises(InvalidInput, match="built-in CLI user"):
        set_role(session, user=cli_user(session), role="viewer", actor=other)
    events = session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "user.role_changed")
    ).all()
    assert events == [
        {"old": "viewer", "new": "manager"},
        {"old": "manager", "new": "admin"},
        {"old": "admin", "new": "viewer"},
    ]


def test_a_long_email_fits_its_audit_event(session: Session) -> None:
    email = "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + ".com"  # 190 characters
    assert len(email) > 150
    user = make_user(session, email)
    session.flush()
    recorded = session.scalars(
        select(AuditEvent.subject_key).where(AuditEvent.action == "user.created")
    ).all()
    assert user.email in recorded
