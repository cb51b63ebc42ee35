"""Deactivation ends a user's access for good: sessions end, API tokens are revoked."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bookwise.assignments.offboarding import deactivate_user
from bookwise.auth.service import (
    create_token,
    revoke_token,
    session_user,
    set_password,
    start_session,
    token_user,
)
from bookwise.db import write_session
from bookwise.models import ApiToken, AuditEvent, User, WebSession
from bookwise.users.service import set_active
from tests.factories import actor, make_user
from tests.helpers import count_statements

PASSWORD = "correct horse battery"


def _with_password(session: Session, email: str) -> User:
    user = make_user(session, email)
    set_password(session, user=user, password=PASSWORD, actor=actor(session))
    return user


def test_reactivating_a_user_gives_back_no_session_and_no_token(session: Session) -> None:
    ana, ben = _with_password(session, "ana@example.com"), _with_password(session, "ben@ex.com")
    sessions = [start_session(session, user=ana) for _ in range(2)]
    live = create_token(session, user=ana, name="script", actor=actor(session))
    old = create_token(session, user=ana, name="old", actor=actor(session))
    revoke_token(session, token_id=old.token.id, actor=actor(session))
    bens_session = start_session(session, user=ben)
    bens_token = create_token(session, user=ben, name="his", actor=actor(session))

    set_active(session, user=ana, active=False, actor=actor(session))
    set_active(session, user=ana, active=True, actor=actor(session))

    assert all(session_user(session, s.token) is None for s in sessions)
    assert token_user(session, live.secret) is None
    assert token_user(session, old.secret) is None
    assert session.scalar(select(func.count()).where(WebSession.user_id == ana.id)) == 0
    session.refresh(live.token)
    assert live.token.revoked_at is not None
    # Someone else's access is untouched.
    assert session_user(session, bens_session.token) is not None
    assert token_user(session, bens_token.secret) is ben


def test_deactivation_records_the_sessions_and_tokens_it_ended(session: Session) -> None:
    ana = _with_password(session, "ana@example.com")
    for _ in range(3):
        start_session(session, user=ana)
    live = create_token(session, user=ana, name="script", actor=actor(session))
    old = create_token(session, user=ana, name="old", actor=actor(session))
    revoke_token(session, token_id=old.token.id, actor=actor(session))

    set_active(session, user=ana, active=False, actor=actor(session))

    deactivated = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.deactivated")
    ).one()
    assert deactivated.details == {"sessions_ended": 3, "tokens_revoked": [live.token.id]}
    revoked = session.execute(
        select(AuditEvent.subject_key, AuditEvent.details)
        .where(AuditEvent.action == "token.revoked")
        .order_by(AuditEvent.id)
    ).all()
    assert [(key, details) for key, details in revoked] == [
        (str(old.token.id), {}),
        (str(live.token.id), {"reason": "user deactivated"}),
    ]


def test_offboarding_ends_access_too(session: Session) -> None:
    ana = _with_password(session, "ana@example.com")
    started = start_session(session, user=ana)
    token = create_token(session, user=ana, name="script", actor=actor(session))
    deactivate_user(session, user=ana, actor=actor(session), keep=True)
    set_active(session, user=ana, active=True, actor=actor(session))
    assert session_user(session, started.token) is None
    assert token_user(session, token.secret) is None


def _deactivation_statements(engine: Engine, email: str, access: int) -> int:
    with write_session(engine) as session:
        user = _with_password(session, email)
        for n in range(access):
            start_session(session, user=user)
            create_token(session, user=user, name=f"t{n}", actor=actor(session))
    with write_session(engine) as session, count_statements(engine) as log:
        user = session.scalars(select(User).where(User.email == email)).one()
        set_active(session, user=user, active=False, actor=actor(session))
        session.flush()
    return log.count


def test_deactivation_is_set_based_whatever_the_sessions_and_tokens(engine: Engine) -> None:
    few = _deactivation_statements(engine, "few@example.com", 1)
    many = _deactivation_statements(engine, "many@example.com", 25)
    assert few == many  # one UPDATE revokes the tokens, one DELETE ends the sessions
    with write_session(engine) as session:
        assert session.scalar(select(func.count()).where(ApiToken.revoked_at.is_(None))) == 0
