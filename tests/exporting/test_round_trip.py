"""Export → import into a fresh database → export again gives the same bytes.

The importer is being built alongside the exporter; this test is the contract between them:
the same column names, the marker, and ``restore`` undoing ``neutralise``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, make_url

from bookwise.accounts.service import build_fields, create_account, declare_attribute
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import make_engine, read_session, write_session
from bookwise.exporting import write_accounts_csv, write_users_csv
from bookwise.importing.accounts import import_accounts
from bookwise.importing.users import import_users
from tests.conftest import PG_URL
from tests.factories import actor, make_account, make_user
from tests.helpers import reset_postgres

ATTRIBUTES = (("plan", "text", None), ("seats", "number", None), ("budget", "money", None))


def _declare(engine: Engine) -> None:
    with write_session(engine) as session:
        for name, kind, choices in ATTRIBUTES:
            declare_attribute(session, name=name, type=kind, choices=choices, actor=actor(session))


def _build(engine: Engine) -> None:
    _declare(engine)
    with write_session(engine) as session:
        me = actor(session)
        x = make_user(session, "=x@example.com", name="@Xavier")
        y = make_user(session, "y@example.com", name="Yasmin 'Y'")
        make_user(session, "viewer@example.com", role="viewer", seat=False)
        parent = create_account(
            session,
            fields=build_fields(
                name="=Acme\n+1",
                external_id="-P1",
                domain=" @acme.example",
                mrr="1797.19",
                health_score=80,
                tier="2",
                lifecycle_stage="onboarding",
                nps=-20,
                csm_rating=4,
                region="'s-Hertogenbosch",
                renewal_date="2027-01-31",
                inherit_policy="own",
            ),
            parent=None,
            custom={"plan": "\t=gold", "seats": "12", "budget": "-5.25"},
            actor=me,
        )
        make_account(session, "Child", external_id="C1", parent=parent, inherit_policy="own")
        make_account(session, "Bare", external_id="B1")
        assign_accounts(session, selection=AccountRefs(["-P1"]), csms=[x], actor=me)
        assign_accounts(session, selection=AccountRefs(["-P1", "C1"]), csms=[y], actor=me)


def _export(engine: Engine, folder: Path) -> tuple[bytes, bytes]:
    folder.mkdir()
    with read_session(engine) as session:
        with open(folder / "users.csv", "w", encoding="utf-8", newline="") as out:
            write_users_csv(session, out)
        with open(folder / "accounts.csv", "w", encoding="utf-8", newline="") as out:
            write_accounts_csv(session, out, sort="external_id")
    return (folder / "users.csv").read_bytes(), (folder / "accounts.csv").read_bytes()


def _fresh(engine: Engine, database_url: str, template: str) -> Engine:
    """The same database emptied back to a freshly migrated one."""
    engine.dispose()
    if PG_URL:
        reset_postgres(engine)
        return engine
    database = make_url(database_url).database
    assert database is not None
    shutil.copyfile(template, database)
    return make_engine(database_url)


def test_export_import_export_gives_identical_bytes(
    engine: Engine, database_url: str, template_database: str, tmp_path: Path
) -> None:
    _build(engine)
    users, accounts = _export(engine, tmp_path / "first")
    engine = _fresh(engine, database_url, template_database)
    _declare(engine)
    with write_session(engine) as session:
        report = import_users(session, path=tmp_path / "first/users.csv", actor=actor(session))
        assert report.failed == 0, report.errors
    with write_session(engine) as session:
        report = import_accounts(
            session, path=tmp_path / "first/accounts.csv", actor=actor(session)
        )
        assert report.failed == 0, report.errors
    again = _export(engine, tmp_path / "second")
    engine.dispose()
    assert again[0] == users
    assert again[1].decode() == accounts.decode()
    assert b"'=Acme" in accounts  # the file really went through neutralise and restore
