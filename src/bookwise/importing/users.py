"""``import_users``: upsert users by email (case-insensitively) from a CSV file.

User files are small (a team, not a customer base), so each good row goes through the users
service, which writes the same audit events as the CLI's own commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.audit import AuditAction, record_event
from bookwise.csvsafe import restore
from bookwise.errors import BookwiseError, InvalidInput, Refused
from bookwise.importing.mapping import header_key
from bookwise.importing.reading import Record, open_csv
from bookwise.importing.report import SCREEN_ERRORS, ErrorSink, ImportReport
from bookwise.importing.values import Problem, check_cell, shown
from bookwise.models import Assignment, User, utcnow
from bookwise.models.user import salesforce_18
from bookwise.users.schemas import email_key, normalise_email
from bookwise.users.service import (
    build_user,
    create_user,
    end_access,
    find_user,
    refuse_last_admin,
)

USER_FIELDS = {
    "email": "email",
    "emailaddress": "email",
    "email_": "email",
    "name": "name",
    "fullname": "name",
    "role": "role",
    "csmseat": "csm_seat",
    "seat": "csm_seat",
    "active": "active",
    "isactive": "active",
    "externalid": "external_id",
    "id": "external_id",
    "userid": "external_id",
}
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


@dataclass
class _UserRow:
    line: int
    values: dict[str, Any]


def import_users(
    session: Session,
    *,
    path: Path,
    actor: User,
    encoding: str | None = None,
    all_or_nothing: bool = False,
    dry_run: bool = False,
    errors: TextIO | None = None,
    stream: BinaryIO | None = None,
    keep_errors: int = SCREEN_ERRORS,
) -> ImportReport:
    """Create or update users by email; bad rows reported, good ones kept (see accounts).

    ``stream`` is the file already open (an upload): ``path`` then only names it. Only an
    admin may import users (a file can make anyone an admin), whichever transport calls.
    """
    if actor.role != "admin":
        raise Refused(f"importing users needs the admin role; {actor.email} is a {actor.role}")
    source = open_csv(path, encoding=encoding, stream=stream)
    columns = {
        i: USER_FIELDS[header_key(h)]
        for i, h in enumerate(source.header)
        if header_key(h) in USER_FIELDS
    }
    ignored = [h for i, h in enumerate(source.header) if i not in columns]
    if "email" not in columns.values():
        raise InvalidInput("a users file needs an email column")
    report = ImportReport(
        str(path),
        source.encoding,
        source.delimiter,
        [(source.header[i], f) for i, f in columns.items()],
        ignored,
        dry_run=dry_run,
    )
    sink = ErrorSink(errors, keep=keep_errors)
    seen: dict[str, int] = {}
    savepoint = session.begin_nested()
    try:
        for record in source.records:
            report.rows_read += 1
            problems = _apply(
                session,
                record,
                columns,
                source.header,
                seen,
                actor,
                report,
                exported=source.exported,
            )
            if problems:
                report.failed += 1
                sink.add_all(iter(problems))
    except BaseException:
        savepoint.rollback()
        raise
    report.errors, report.error_count = sink.first, sink.count
    report.written = not dry_run and not (all_or_nothing and report.failed)
    if report.written:
        savepoint.commit()
    else:
        savepoint.rollback()
    return report


def _apply(
    session: Session,
    record: Record,
    columns: dict[int, str],
    header: list[str],
    seen: dict[str, int],
    actor: User,
    report: ImportReport,
    *,
    exported: bool,
) -> list[Problem]:
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for index, target in columns.items():
        raw = record.cells[index] if index < len(record.cells) else ""
        raw = restore(raw) if exported else raw
        try:
            values[target] = _value(target, raw)
        except ValueError as exc:
            problems.append(Problem(record.line, header[index], shown(raw), str(exc)))
    if problems:
        return problems
    key = email_key(values["email"])
    email_column = header[next(i for i, t in columns.items() if t == "email")]
    if key in seen:
        return [
            Problem(
                record.line, email_column, values["email"], f"repeats the email of line {seen[key]}"
            )
        ]
    seen[key] = record.line
    try:
        _upsert(session, values, actor, report)
    except BookwiseError as exc:
        return [Problem(record.line, email_column, values["email"], exc.message)]
    return []


def _value(target: str, raw: str) -> Any:
    text = raw.strip()
    check_cell(raw)
    if target == "email":
        return normalise_email(text)
    if target in ("csm_seat", "active"):
        lowered = text.casefold()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not true or false")
    if target == "role":
        if text.casefold() not in ("admin", "manager", "viewer"):
            raise ValueError(f"{raw!r} is not admin, manager or viewer")
        return text.casefold()
    limit = {"external_id": 100, "name": 200}[target]
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    if target == "external_id":
        # Stored in the form models.user keeps (18 characters for a Salesforce id), so that a
        # file repeating the 15-character id leaves the user unchanged.
        return salesforce_18(text) if text else None
    return text


def _upsert(session: Session, values: dict[str, Any], actor: User, report: ImportReport) -> None:
    user = find_user(session, values["email"])
    if user is None:
        create_user(session, data=build_user(**values), actor=actor)
        report.created += 1
        return
    if user.is_system:
        raise BookwiseError("the built-in CLI user cannot be changed by an import")
    changes = {k: v for k, v in values.items() if k != "email" and getattr(user, k) != v}
    if changes.get("active") is False and _owns_accounts(session, user):
        raise BookwiseError(
            "still owns accounts; deactivate with `bookwise users deactivate` and "
            "--transfer-to or --keep"
        )
    if not changes:
        report.unchanged += 1
        return
    leaving = changes.get("active") is False
    if leaving or changes.get("role", "admin") != "admin":
        refuse_last_admin(session, user=user)  # as users.service.set_role and set_active do
    ended = end_access(session, user=user, actor=actor) if leaving else {}
    for key, value in changes.items():
        setattr(user, key, value)
    if "active" in changes:
        user.deactivated_at = None if changes["active"] else utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.USER_UPDATED,
        subject_type="user",
        subject_key=user.email,
        details={"source": "import", **changes, **ended},
    )
    report.updated += 1


def _owns_accounts(session: Session, user: User) -> bool:
    count = session.scalar(
        select(func.count()).where(Assignment.user_id == user.id, Assignment.ended_at.is_(None))
    )
    return bool(count)
