"""Export users as CSV in the columns ``bookwise import users`` reads back."""

from __future__ import annotations

from typing import Any, TextIO

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bookwise.exporting.csvout import BATCH_SIZE, CsvExport, Field
from bookwise.models import User

USER_FIELDS: tuple[Field, ...] = (
    Field("email"),
    Field("name"),
    Field("role"),
    Field("csm_seat", "boolean"),
    Field("active", "boolean"),
    Field("external_id"),
)


def users_query() -> Select[*tuple[Any, ...]]:
    """Every user but the built-in ones, by email (case-insensitive)."""
    return (
        select(User.email, User.name, User.role, User.csm_seat, User.active, User.external_id)
        .where(User.is_system.is_(False))
        .order_by(User.email_fold)
    )


def write_users_csv(session: Session, out: TextIO, *, batch_size: int = BATCH_SIZE) -> int:
    """Stream every user (active or not, system users left out) as CSV; return the rows."""
    export = CsvExport(out, USER_FIELDS)
    rows = session.execute(users_query().execution_options(yield_per=batch_size))
    return export.write_all(tuple(row) for row in rows)
