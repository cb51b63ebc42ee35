"""Passwords, sessions, API tokens and the sign-in limit, through the auth services."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bookwise.auth.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, ensure_demo_admin
from bookwise.auth.service import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    SignInFailed,
    TooManyAttempts,
    authenticate,
    create_token,
    end_session,
    get_token,
    list_tokens_with_owners,
    password_matches,
    revoke_token,
    session_user,
    set_password,
    start_session,
    token_hash,
    token_user,
)
from bookwise.db import write_session
from bookwise.errors import Conflict, InvalidInput, NotFound
from bookwise.models import ApiToken, AuditEvent, LoginCounter, User, WebSession, utcnow
from bookwise.users.service import cli_user, set_active
from tests.factories import actor, make_user

PASSWORD = "correct horse battery"


def _with_password(session: Session, email: str = "ana@example.com", **kwargs: object) -> User:
    user = make_user(session, email, **kwargs)  # type: ignore[arg-type]
    set_password(session, user=user, password=PASSWORD, actor=actor(session))
    return user


# --- passwords ---------------------------------------------------------------------------------


@pytest.fixture
def production_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2-cffi's default parameters, as production uses (the suite runs lighter ones)."""
    import bookwise.auth.service as auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher())


def test_a_password_is_stored_as_an_argon2id_hash_never_as_itself(
    session: Session, production_argon2: None
) -> None:
    user = _with_password(session)
    stored = user.password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.password_set")
    ).one()
    assert PASSWORD not in str(event.details)


def test_the_same_password_hashes_differently_each_time(session: Session) -> None:
    ana = _with_password(session, "ana@example.com")
    ben = _with_password(session, "ben@example.com")
    assert ana.password_hash != ben.password_hash  # salted


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 10 characters"), ("x" * 1001, "at most 1,000 characters")],
)
def test_a_password_too_short_or_too_long_is_refused(
    session: Session, password: str, message: str
) -> None:
    user = make_user(session, "ana@example.com")
    with pytest.raises(InvalidInput, match=message):
        set_password(session, user=user, password=password, actor=actor(session))
    assert user.password_hash is None


def test_the_cli_user_gets_no_password(session: Session) -> None:
    with pytest.raises(InvalidInput, match="cannot sign in"):
        set_password(session, user=cli_user(session), password=PASSWORD, actor=actor(session))


def test_authenticate_accepts_the_password_case_insensitively_by_email(session: Session) -> None:
    user = _with_password(session)
    assert authenticate(session, email=" ANA@Example.com ", password=PASSWORD, address="a") is user


@pytest.mark.parametrize("password", ["wrong password", PASSWORD.upper(), ""])
def test_a_wrong_password_fails_and_is_recorded(session: Session, password: str) -> None:
    _with_password(session)
    with pytest.raises(SignInFailed, match="wrong email or password"):
        authenticate(session, email="ana@example.com", password=password, address="1.2.3.4")
    counters = {c.key: c.failures for c in session.scalars(select(LoginCounter))}
    email_digest = hashlib.sha256(b"ana@example.com").hexdigest()
    assert counters == {f"e:{email_digest}": 1, "a:1.2.3.4": 1}  # no email kept in clear


def test_unknown_inactive_passwordless_and_system_users_fail_alike(session: Session) -> None:
    _with_password(session, "gone@example.com")
    set_active(
        session,
        user=session.scalars(select(User).where(User.email == "gone@example.com")).one(),
        active=False,
        actor=actor(session),
    )
    make_user(session, "nopass@example.com")
    for email in (
        "nobody@example.com",
        "gone@example.com",
        "nopass@example.com",
        "cli@bookwise.invalid",
    ):
        with pytest.raises(SignInFailed) as failed:
            authenticate(session, email=email, password=PASSWORD, address="a")
        assert failed.value.message == "wrong email or password"  # never says which


def test_a_hash_with_old_parameters_is_replaced_at_the_next_sign_in(
    session: Session, production_argon2: None
) -> None:
    user = make_user(session, "ana@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user.password_hash = weak.hash(PASSWORD)
    session.flush()
    old = user.password_hash
    assert PasswordHasher().check_needs_rehash(old)

    authenticate(session, email="ana@example.com", password=PASSWORD, address="a")

    assert user.password_hash != old
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert password_matches(user, PASSWORD)


def test_a_current_hash_is_left_alone(session: Session, production_argon2: None) -> None:
    user = _with_password(session)
    before = user.password_hash
    authenticate(session, email="ana@example.com", password=PASSWORD, address="a")
    assert user.password_hash == before


# --- the sign-in limit -------------------------------------------------------------------------


def _fail(session: Session, email: str, address: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(SignInFailed):
            authenticate(session, email=email, password="wrong password", address=address)


def test_ten_failures_for_an_email_refuse_even_the_right_password(session: Session) -> None:
    _with_password(session)
    _fail(session, "ana@example.com", "10.0.0.1", MAX_FAILURES - 1)
    authenticate(session, email="ana@example.com", password=PASSWORD, address="10.0.0.9")
    _fail(session, "ana@example.com", "10.0.0.2", 1)
    with pytest.raises(TooManyAttempts, match="try again in 15 minutes"):
        authenticate(session, email="ANA@example.com", password=PASSWORD, address="10.0.0.9")


def test_ten_failures_from_an_address_refuse_every_email_from_it(session: Session) -> None:
    _with_password(session)
    for n in range(MAX_FAILURES):
        _fail(session, f"guess{n}@example.com", "10.0.0.1", 1)
    with pytest.raises(TooManyAttempts):
        authenticate(session, email="ana@example.com", password=PASSWORD, address="10.0.0.1")
    assert authenticate(session, email="ana@example.com", password=PASSWORD, address="10.0.0.2")


def test_failures_older_than_the_window_count_for_nothing_and_are_dropped(
    session: Session,
) -> None:
    _with_password(session)
    _fail(session, "ana@example.com", "10.0.0.1", MAX_FAILURES)
    _fail(session, "ben@example.com", "10.0.0.2", 1)
    session.execute(
        update(LoginCounter).values(window_started=utcnow() - FAILURE_WINDOW - timedelta(seconds=1))
    )
    assert authenticate(session, email="ana@example.com", password=PASSWORD, address="10.0.0.1")
    # The success dropped ben's stale counters; ana's started again and gave the attempt back.
    assert session.scalar(select(func.count()).select_from(LoginCounter)) == 2
    assert set(session.scalars(select(LoginCounter.failures))) == {0}
    _fail(session, "ana@example.com", "10.0.0.1", 1)
    assert set(session.scalars(select(LoginCounter.failures))) == {1}


# --- browser sessions --------------------------------------------------------------------------


def test_a_session_is_stored_as_a_hash_and_finds_its_user(session: Session) -> None:
    user = _with_password(session)
    started = start_session(session, user=user)
    row = session.scalars(select(WebSession)).one()
    assert row.token_hash == token_hash(started.token) != started.token
    assert row.csrf_token == started.csrf_token
    assert len(started.token) >= 40
    assert started.csrf_token != started.token
    found = session_user(session, started.token)
    assert found is not None
    assert found[0] is user
    assert session_user(session, started.token + "x") is None
    assert session_user(session, row.token_hash) is None  # the stored hash is no credential


def test_a_session_expires(session: Session) -> None:
    user = _with_password(session)
    started = start_session(session, user=user)
    assert started.expires_at - utcnow() > timedelta(days=13)
    session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.expire_all()
    assert session_user(session, started.token) is None


def test_a_new_session_clears_expired_ones(session: Session) -> None:
    user = _with_password(session)
    start_session(session, user=user)
    session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    fresh = start_session(session, user=user)
    assert session.scalars(select(WebSession.token_hash)).all() == [token_hash(fresh.token)]


def test_end_session_and_deactivation_end_it(session: Session) -> None:
    user = _with_password(session)
    first, second = start_session(session, user=user), start_session(session, user=user)
    end_session(session, first.token)
    assert session_user(session, first.token) is None
    assert session_user(session, second.token) is not None
    set_active(session, user=user, active=False, actor=actor(session))
    assert session_user(session, second.token) is None


def test_a_new_password_ends_every_session_of_that_user_only(session: Session) -> None:
    ana, ben = (
        _with_password(session, "ana@example.com"),
        _with_password(session, "ben@example.com"),
    )
    anas, bens = start_session(session, user=ana), start_session(session, user=ben)
    set_password(session, user=ana, password="another good password", actor=actor(session))
    assert session_user(session, anas.token) is None
    assert session_user(session, bens.token) is not None


# --- API tokens --------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_as_its_hash(session: Session) -> None:
    user = make_user(session, "ana@example.com")
    created = create_token(session, user=user, name=" nightly sync ", actor=user)
    row = session.get(ApiToken, created.token.id)
    assert row is not None
    assert created.secret.startswith("bw_")
    assert len(created.secret) > 40
    assert row.token_hash == token_hash(created.secret)
    assert created.secret not in (row.token_hash, row.name)
    assert row.prefix == created.secret[:10]
    assert row.name == "nightly sync"
    assert token_user(session, created.secret) is user
    assert token_user(session, row.token_hash) is None
    assert token_user(session, "bw_made-up") is None


def test_a_revoked_token_and_an_inactive_users_token_stop_working(session: Session) -> None:
    ana, ben = make_user(session, "ana@example.com"), make_user(session, "ben@example.com")
    anas = create_token(session, user=ana, name="a", actor=ana)
    bens = create_token(session, user=ben, name="b", actor=ben)
    revoked = revoke_token(session, token_id=anas.token.id, actor=ana)
    assert revoked.revoked_at is not None
    assert token_user(session, anas.secret) is None
    again = revoke_token(session, token_id=anas.token.id, actor=ana)  # idempotent
    assert again.revoked_at == revoked.revoked_at
    set_active(session, user=ben, active=False, actor=actor(session))
    assert token_user(session, bens.secret) is None
    with pytest.raises(NotFound, match="no API token 999"):
        revoke_token(session, token_id=999, actor=ana)


def test_tokens_are_refused_for_inactive_and_built_in_users(session: Session) -> None:
    gone = make_user(session, "gone@example.com", active=False)
    for user in (gone, cli_user(session)):
        with pytest.raises(InvalidInput, match="cannot have API tokens"):
            create_token(session, user=user, name="x", actor=actor(session))


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_name_of_1_to_100_characters(session: Session, name: str) -> None:
    user = make_user(session, "ana@example.com")
    with pytest.raises(InvalidInput, match="1 to 100 characters"):
        create_token(session, user=user, name=name, actor=user)


def test_tokens_are_listed_with_their_owner_newest_first(session: Session) -> None:
    ana, ben = make_user(session, "ana@example.com"), make_user(session, "ben@example.com")
    first = create_token(session, user=ana, name="first", actor=ana).token
    second = create_token(session, user=ben, name="second", actor=ben).token
    everyone = [(row.id, email) for row, email in list_tokens_with_owners(session)]
    assert everyone == [(second.id, "ben@example.com"), (first.id, "ana@example.com")]
    assert [row.id for row, _ in list_tokens_with_owners(session, user=ana)] == [first.id]
    row, owner = get_token(session, second.id)
    assert (row.name, owner.email) == ("second", "ben@example.com")
    with pytest.raises(NotFound):
        get_token(session, 999)


def test_creating_and_revoking_a_token_is_audited(session: Session) -> None:
    ana = make_user(session, "ana@example.com")
    created = create_token(session, user=ana, name="ci", actor=actor(session))
    revoke_token(session, token_id=created.token.id, actor=ana)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "token").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["token.created", "token.revoked"]
    assert all(created.secret not in str(e.details) for e in events)


# --- the demo admin ----------------------------------------------------------------------------


def test_the_demo_admin_is_created_once_and_then_left_alone(engine: Engine) -> None:
    with write_session(engine) as session:
        made = ensure_demo_admin(session, actor=actor(session))
    assert made.created
    assert (made.email, made.password) == (DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    with write_session(engine) as session:
        again = ensure_demo_admin(session, actor=actor(session))
        assert not again.created
        assert again.changes == []
        user = authenticate(
            session, email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD, address="a"
        )
        assert (user.role, user.csm_seat, user.active) == ("admin", True, True)


def test_a_demo_admin_with_another_password_is_refused_unless_reset(session: Session) -> None:
    _with_password(session, DEMO_ADMIN_EMAIL, role="viewer", seat=False)
    with pytest.raises(Conflict, match=r"another password.*--reset"):
        ensure_demo_admin(session, actor=actor(session))
    reset = ensure_demo_admin(session, reset=True, actor=actor(session))
    assert reset.changes == ["password reset", "made admin", "CSM seat given"]
    user = authenticate(session, email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD, address="a")
    assert (user.role, user.csm_seat) == ("admin", True)


def test_a_deactivated_demo_admin_with_the_demo_password_is_activated(session: Session) -> None:
    user = make_user(session, DEMO_ADMIN_EMAIL, role="admin")
    set_password(session, user=user, password=DEMO_ADMIN_PASSWORD, actor=actor(session))
    set_active(session, user=user, active=False, actor=actor(session))
    assert ensure_demo_admin(session, actor=actor(session)).changes == ["activated"]
    assert user.active
