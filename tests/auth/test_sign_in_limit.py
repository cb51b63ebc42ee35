"""The sign-in limit: counted before any password is hashed, exact under parallel guesses."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

import bookwise.auth.service as auth
from bookwise.auth.service import (
    MAX_FAILURES,
    SignInFailed,
    TooManyAttempts,
    authenticate,
    check_password,
    count_attempt,
    set_password,
)
from bookwise.db import is_sqlite, run_write, write_session
from bookwise.models import LoginCounter
from tests.factories import actor, make_user

PASSWORD = "correct horse battery"
GUESSES = 40


class CountingHasher(PasswordHasher):
    """The suite's light argon2, counting the passwords it verifies."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(auth, "_hasher", counting)
    return counting


def _ana(session: Session) -> None:
    user = make_user(session, "ana@example.com")
    set_password(session, user=user, password=PASSWORD, actor=actor(session))


def test_attempts_over_the_limit_are_refused_without_hashing(
    session: Session, hasher: CountingHasher
) -> None:
    _ana(session)
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            authenticate(session, email="ana@example.com", password="guess", address="10.0.0.1")
    assert hasher.verified == MAX_FAILURES
    for password in ("guess", PASSWORD):
        with pytest.raises(TooManyAttempts):
            authenticate(session, email="ana@example.com", password=password, address="10.0.0.2")
    assert hasher.verified == MAX_FAILURES


def test_an_email_longer_than_any_is_counted_and_refused_without_hashing(
    session: Session, hasher: CountingHasher
) -> None:
    """On PostgreSQL such an email was a 500 (too long for the failures table), never counted."""
    email = "a" * 400 + "@example.com"
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInFailed, match="wrong email or password"):
            authenticate(session, email=email, password="guess", address="10.0.0.1")
    assert hasher.verified == 0
    with pytest.raises(TooManyAttempts):  # counted: the address is now locked
        authenticate(session, email="ben@example.com", password="guess", address="10.0.0.1")
    with pytest.raises(SignInFailed):
        authenticate(session, email="ana@example.com", password="p" * 1001, address="10.0.0.2")
    assert hasher.verified == 0  # nor a password longer than any can be


def test_a_good_sign_in_gives_its_attempt_back(session: Session) -> None:
    _ana(session)
    for _ in range(MAX_FAILURES * 2):  # an office behind one address signs in all day
        authenticate(session, email="ana@example.com", password=PASSWORD, address="10.0.0.1")
    assert set(session.scalars(select(LoginCounter.failures))) == {0}


# --- parallel guesses ----------------------------------------------------------------------


def _read_then_write(session: Session, keys: list[str]) -> int:
    """The limit as it was: read the count, check the password, then write the count."""
    found = dict(
        session.execute(
            select(LoginCounter.key, LoginCounter.failures).where(LoginCounter.key.in_(keys))
        ).all()
    )
    time.sleep(0.02)  # the password hash the old code ran between its read and its write
    for key in keys:
        session.execute(
            update(LoginCounter)
            .where(LoginCounter.key == key)
            .values(failures=found.get(key, 0) + 1)
        )
    return max(found.get(key, 0) for key in keys) + 1


def _parallel_guesses(engine: Engine) -> Counter[str]:
    """GUESSES wrong passwords for one email at once, as the sign-in form makes them."""
    with write_session(engine) as session:
        _ana(session)
        with pytest.raises(SignInFailed):  # one failure first: the counters exist
            authenticate(session, email="ana@example.com", password="x", address="10.0.0.1")
    barrier = threading.Barrier(GUESSES)
    outcomes: Counter[str] = Counter()

    def guess(n: int) -> None:
        barrier.wait(timeout=30)
        kwargs: dict[str, Any] = {"email": "ana@example.com", "address": "10.0.0.1"}
        try:
            run_write(engine, lambda s: count_attempt(s, **kwargs))
        except TooManyAttempts:
            outcomes["refused"] += 1
            return
        try:
            run_write(engine, lambda s: check_password(s, password=f"guess {n}", **kwargs))
        except SignInFailed:
            outcomes["checked"] += 1

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_parallel_guesses_get_exactly_the_limit(engine: Engine) -> None:
    outcomes = _parallel_guesses(engine)
    assert outcomes == {"checked": MAX_FAILURES - 1, "refused": GUESSES - MAX_FAILURES + 1}


def test_parallel_guesses_beat_a_read_then_write_limit(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard's teeth: count with a read and a later write, and more guesses get checked."""
    if is_sqlite(engine):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): the race is PostgreSQL's")
    monkeypatch.setattr(auth, "count_failures", _read_then_write)
    outcomes = _parallel_guesses(engine)
    assert outcomes["checked"] > MAX_FAILURES - 1, f"{outcomes}: no teeth"
