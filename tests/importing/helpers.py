"""Helpers for the import tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from bookwise.db import read_session, write_session
from bookwise.importing.accounts import ImportOptions, import_accounts
from bookwise.importing.report import ImportReport
from bookwise.models import Account, AuditEvent
from bookwise.users.service import cli_user

FILES = Path(__file__).parent / "files"


def run_import(engine: Engine, path: Path, **options: Any) -> tuple[ImportReport, str]:
    """Import ``path`` in its own transaction; return the report and the error CSV text."""
    errors = io.StringIO()
    with write_session(engine) as session:
        report = import_accounts(
            session,
            path=path,
            actor=cli_user(session),
            options=ImportOptions(**options),
            errors=errors,
        )
    return report, errors.getvalue()


def accounts_by_external_id(engine: Engine) -> dict[str, Account]:
    """Every account, keyed by external id."""
    with read_session(engine) as session:
        found = {a.external_id or "": a for a in session.scalars(select(Account))}
        session.expunge_all()
        return found


def audit_count(engine: Engine) -> int:
    """Number of audit events."""
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def write_rows(path: Path, header: str, rows: list[str]) -> Path:
    """A small CSV file from text lines."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
