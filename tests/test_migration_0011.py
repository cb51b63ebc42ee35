"""Migration 0011 folds the existing users' names and lengthens their 15-character ids."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from bookwise.migrate import alembic_config, upgrade_database
from tests.test_migrations import downgrade_database, empty_engine  # noqa: F401


def upgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_existing_users_get_their_name_fold_and_18_character_ids(
    empty_engine: Engine,  # noqa: F811
) -> None:
    upgrade_to(empty_engine, "0010")
    rows = [
        ("ana@example.com", "  Ana   STRAUß ", "005Hs00000ABCde"),
        ("bob@example.com", "", "12345"),
        ("cid@example.com", "Cid", "005Hs00000XYZab"),
        ("dee@example.com", "Dee", "005Hs00000XYZabIAH"),  # already holds cid's long form
    ]
    with empty_engine.begin() as connection:
        for email, name, external_id in rows:
            connection.execute(
                text(
                    "INSERT INTO users (email, email_fold, name, role, csm_seat, active, "
                    "is_system, external_id, created_at) VALUES (:e, :e, :n, 'viewer', "
                    "false, true, false, :x, CURRENT_TIMESTAMP)"
                ),
                {"e": email, "n": name, "x": external_id},
            )

    upgrade_database(empty_engine)

    with empty_engine.connect() as connection:
        found = dict(
            (email, (fold, external))
            for email, fold, external in connection.execute(
                text("SELECT email, name_fold, external_id FROM users")
            )
        )
    assert found == {
        "cli@bookwise.invalid": ("bookwise cli", None),
        "ana@example.com": ("ana strauss", "005Hs00000ABCdeIAH"),
        "bob@example.com": ("", "12345"),
        "cid@example.com": ("cid", "005Hs00000XYZab"),  # left as typed: the long form is taken
        "dee@example.com": ("dee", "005Hs00000XYZabIAH"),
    }
    downgrade_database(empty_engine, "0010")
