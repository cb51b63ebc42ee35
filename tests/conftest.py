"""Test databases: SQLite by default, PostgreSQL when BOOKWISE_TEST_DATABASE_URL is set.

SQLite: the schema is migrated once into a template file that every test copies.
PostgreSQL: the schema is migrated once; every test starts from emptied tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from bookwise.db import make_engine, normalise_url, write_session
from bookwise.migrate import upgrade_database
from tests.helpers import reset_postgres

PG_URL = os.environ.get("BOOKWISE_TEST_DATABASE_URL")


def pytest_report_header() -> str:
    return f"bookwise test database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (files)'}"


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        # A database of this test process's own, so parallel runs never share tables.
        url = make_url(normalise_url(PG_URL))
        name = f"bookwise_test_{os.getpid()}"
        server = create_engine(url, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        own_url = url.set(database=name).render_as_string(hide_password=False)
        engine = make_engine(own_url)
        upgrade_database(engine)
        engine.dispose()
        yield own_url
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    yield str(path)


@pytest.fixture
def database_url(_template: str, tmp_path: Path) -> str:
    """A URL of a freshly migrated, empty database for this test."""
    if PG_URL:
        engine = make_engine(_template)
        reset_postgres(engine)
        engine.dispose()
        return _template
    target = tmp_path / "bookwise.db"
    shutil.copyfile(_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test's database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """One write transaction, committed at the end of the test if it got that far."""
    with write_session(engine) as session:
        yield session


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 with its lightest parameters: the same code path, ~1 ms instead of ~0.5 s a hash.

    Production keeps argon2-cffi's defaults; tests that check those parameters build their own
    ``PasswordHasher()``.
    """
    from argon2 import PasswordHasher

    import bookwise.auth.service as auth

    saved = auth._hasher, auth._DUMMY_HASH
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    auth._DUMMY_HASH = auth._hasher.hash("bookwise-dummy-password")
    yield
    auth._hasher, auth._DUMMY_HASH = saved
