"""The migration tree builds, on an empty database, exactly the schema the models describe.

Each test gets a database nobody has migrated yet: a new SQLite file, or (when
BOOKWISE_TEST_DATABASE_URL is set) a new PostgreSQL database on that server, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, make_url, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bookwise.db import make_engine, normalise_url
from bookwise.migrate import alembic_config, database_is_current, upgrade_database
from bookwise.models import CLI_USER_EMAIL, AssignmentRole, Base, Setting, User

PG_URL = os.environ.get("BOOKWISE_TEST_DATABASE_URL")


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no tables at all."""
    if not PG_URL:
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    server_url = make_url(normalise_url(PG_URL))
    name = f"bookwise_migrations_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server_url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def downgrade_database(engine: Engine, revision: str) -> None:
    """Run Alembic's downgrade on ``engine`` the way bookwise.migrate runs upgrades."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def drift(engine: Engine) -> list[Any]:
    """Differences between the migrated schema and the models (empty when they agree)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_empty_database_is_not_current(empty_engine: Engine) -> None:
    assert not database_is_current(empty_engine)
    assert table_names(empty_engine) == set()


def test_upgrade_head_builds_every_model_table(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)

    assert database_is_current(empty_engine)
    assert table_names(empty_engine) == set(Base.metadata.tables) | {"alembic_version"}


def test_models_and_migrations_do_not_drift(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)

    assert drift(empty_engine) == [], (
        "the models differ from the migrations: add a migration "
        "(.venv/bin/alembic revision --autogenerate -m '...') and review it"
    )


def test_upgrade_seeds_the_built_in_rows(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)

    with Session(empty_engine) as session:
        csm = session.get(AssignmentRole, "csm")
        assert csm is not None
        assert csm.inheritable is True
        default = session.get(Setting, "default_inherit_policy")
        assert default is not None
        assert default.value == "own"
        cli = session.scalar(select(User).where(User.email_fold == CLI_USER_EMAIL))
        assert cli is not None
        assert (cli.email, cli.is_system, cli.active, cli.csm_seat) == (
            CLI_USER_EMAIL,
            True,
            True,
            False,
        )


def test_upgrading_a_current_database_changes_nothing(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)
    upgrade_database(empty_engine)

    assert database_is_current(empty_engine)
    with Session(empty_engine) as session:
        assert session.scalar(select(User.id).where(User.email_fold == CLI_USER_EMAIL))
        assert len(session.scalars(select(User)).all()) == 1


def test_downgrade_to_base_then_upgrade_again(empty_engine: Engine) -> None:
    upgrade_database(empty_engine)

    downgrade_database(empty_engine, "base")
    assert table_names(empty_engine) <= {"alembic_version"}
    assert not database_is_current(empty_engine)

    upgrade_database(empty_engine)
    assert database_is_current(empty_engine)
    assert drift(empty_engine) == []
    with Session(empty_engine) as session:
        assert session.get(AssignmentRole, "csm") is not None


def test_open_assignment_is_unique_but_history_is_not(empty_engine: Engine) -> None:
    """The partial unique index exists as migrated: one open row, any number of closed ones."""
    upgrade_database(empty_engine)
    insert_assignment = text(
        "INSERT INTO assignments (account_id, user_id, role, is_primary, source, reason,"
        " actor_id, operation_id, started_at, ended_at)"
        " VALUES (1, :user, 'csm', false, 'manual', '', :user, 1, :start, :end)"
    )
    with empty_engine.begin() as conn:
        user = conn.scalar(select(User.id).where(User.email_fold == CLI_USER_EMAIL))
        conn.execute(
            text(
                "INSERT INTO accounts (id, name, name_fold, depth, ownership_version, custom,"
                " created_at) VALUES (1, 'Acme', 'acme', 0, 0, '{}', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO operations (id, kind, actor_id, created_at, parameters, counts,"
                " accounts_changed) VALUES (1, 'assign', :user, '2026-01-01 00:00:00', '{}',"
                " '{}', 1)"
            ),
            {"user": user},
        )
        for start, end in [("2026-01-01", "2026-01-02"), ("2026-01-02", "2026-01-03")]:
            conn.execute(insert_assignment, {"user": user, "start": start, "end": end})
        conn.execute(insert_assignment, {"user": user, "start": "2026-01-03", "end": None})

    with pytest.raises(IntegrityError), empty_engine.begin() as conn:
        conn.execute(insert_assignment, {"user": user, "start": "2026-01-04", "end": None})


def test_check_constraints_match_the_models(empty_engine: Engine) -> None:
    """Alembic's drift check ignores CHECK constraints: compare them directly.

    Names on both databases; the text on SQLite, which stores it verbatim (PostgreSQL
    rewrites it, e.g. BETWEEN into two comparisons).
    """
    from sqlalchemy import CheckConstraint

    upgrade_database(empty_engine)
    found = inspect(empty_engine)
    verbatim = empty_engine.dialect.name == "sqlite"
    for table in Base.metadata.sorted_tables:
        checks = [c for c in table.constraints if isinstance(c, CheckConstraint)]
        stored = found.get_check_constraints(table.name)
        assert {c.name for c in checks} == {c["name"] for c in stored}, table.name
        if verbatim:
            texts = {c["name"]: " ".join(c["sqltext"].split()) for c in stored}
            for check in checks:
                assert texts[check.name] == " ".join(str(check.sqltext).split()), check.name


def trigger_names(engine: Engine) -> set[str]:
    """The triggers the migrations created (not PostgreSQL's internal foreign-key ones)."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with engine.connect() as connection:
        return set(connection.scalars(text(query)))


def test_counters_are_backfilled_from_existing_rows_and_kept_by_triggers(
    empty_engine: Engine,
) -> None:
    """0008 counts what is already there, and its triggers come and go with it."""
    from bookwise.assignments.counters import recount_book_totals
    from bookwise.assignments.offboarding import deactivate_user
    from bookwise.assignments.selection import AccountRefs
    from bookwise.assignments.service import assign_accounts
    from bookwise.db import read_session, write_session
    from tests.factories import actor, make_accounts, make_user

    upgrade_database(empty_engine)
    counted = {
        "book_counts_assignment_inserted",
        "book_counts_assignment_closed",
        "book_counts_assignment_updated",
        "book_counts_assignment_deleted",
        "book_counts_account_mrr",
        "coverage_counts_user_active",
    }
    if empty_engine.dialect.name != "sqlite":
        counted = {
            "book_counts_assignments_inserted",
            "book_counts_assignments_updated",
            "book_counts_assignments_deleted",
            "book_counts_accounts_updated",
            "coverage_counts_users_updated",
        }
    expected = counted | {"account_count_inserted", "account_count_deleted"}
    assert trigger_names(empty_engine) == expected
    with write_session(empty_engine) as session:
        x, y = make_user(session), make_user(session)
        ids = [a.id for a in make_accounts(session, 4, mrr="12.50")]
        me = actor(session)
        assign_accounts(session, selection=AccountRefs(ids), csms=[x], actor=me)
        assign_accounts(session, selection=AccountRefs(ids[:1]), csms=[y], actor=me)
        deactivate_user(session, user=x, actor=me, keep=True)

    downgrade_database(empty_engine, "0007")
    assert trigger_names(empty_engine) == set()
    assert "book_counts" not in table_names(empty_engine)
    upgrade_database(empty_engine)

    assert trigger_names(empty_engine) == expected
    with read_session(empty_engine) as session:
        report = recount_book_totals(session, actor=actor(session), dry_run=True)
    assert report.differences() == []
    assert report.stored.accounts == 4
    assert report.stored.coverage == {"csm": (1, 1250)}
    assert sorted(report.stored.books.values()) == [(1, 1250), (4, 5000)]
