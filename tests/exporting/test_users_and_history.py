"""Users and ownership-history exports on a real database."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts
from bookwise.dates import today
from bookwise.exporting import write_book_csv, write_timeline_csv, write_users_csv
from bookwise.exporting.history import HISTORY_FIELDS
from bookwise.models import Assignment
from tests.exporting.helpers import parse_export
from tests.factories import actor, make_account, make_user


def _parse(write, *args, **kwargs):  # type: ignore[no-untyped-def]
    out = io.StringIO(newline="")
    count = write(*args, out, **kwargs)
    rows = parse_export(out.getvalue())
    assert count == len(rows)
    return rows


def test_users_export_every_user_but_the_builtin_one(session: Session) -> None:
    make_user(session, "=boss@example.com", name="@Boss", role="admin", seat=False)
    gone = make_user(session, "gone@example.com", name="Gone", active=False)
    gone.external_id = "005000000000001AAA"
    session.flush()
    rows = _parse(write_users_csv, session)
    assert rows == [
        {
            "email": "'=boss@example.com",
            "name": "'@Boss",
            "role": "admin",
            "csm_seat": "false",
            "active": "true",
            "external_id": "",
        },
        {
            "email": "gone@example.com",
            "name": "Gone",
            "role": "manager",
            "csm_seat": "true",
            "active": "false",
            "external_id": "005000000000001AAA",
        },
    ]


def _timeline(session: Session):  # type: ignore[no-untyped-def]
    """x owns A, then A is transferred to y with a hostile reason."""
    me = actor(session)
    x = make_user(session, "x@example.com")
    y = make_user(session, "y@example.com")
    account = make_account(session, "-Acme", external_id="A")
    first = assign_accounts(session, selection=AccountRefs(["A"]), csms=[x], actor=me)
    second = transfer_accounts(
        session,
        selection=AccountRefs(["A"]),
        from_csm=x,
        to_csm=y,
        actor=me,
        reason='=HYPERLINK("http://x")',
    )
    return account, x, y, first.operation_id, second.operation_id


def test_an_accounts_timeline_has_every_row_oldest_first(session: Session) -> None:
    account, _x, _y, first, second = _timeline(session)
    rows = _parse(write_timeline_csv, session, account=account)
    assert list(rows[0]) == [f.name for f in HISTORY_FIELDS]
    assert [(r["user"], r["source"], r["operation_id"], r["ended_operation_id"]) for r in rows] == [
        ("x@example.com", "manual", str(first), str(second)),
        ("y@example.com", "manual", str(second), ""),
    ]
    assert rows[0]["account_name"] == "'-Acme"
    assert rows[0]["account_external_id"] == "A"
    assert rows[1]["reason"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["actor"] == "cli@bookwise.invalid"
    assert rows[1]["role"] == "csm"
    started = datetime.fromisoformat(rows[0]["started_at"])
    assert started.tzinfo is not None
    assert started.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(rows[0]["ended_at"]) >= started
    assert rows[1]["ended_at"] == ""


def test_owners_on_a_date_and_a_book_on_a_date(session: Session) -> None:
    account, x, y, _, _ = _timeline(session)
    # Move x's (closed) row back in time so that "yesterday" has a different owner.
    long_ago = datetime.now(UTC) - timedelta(days=10)
    session.execute(
        update(Assignment)
        .where(Assignment.user_id == x.id)
        .values(started_at=long_ago, ended_at=long_ago + timedelta(days=5))
    )
    session.execute(
        update(Assignment)
        .where(Assignment.user_id == y.id)
        .values(started_at=long_ago + timedelta(days=5))
    )
    day = today() - timedelta(days=7)
    owners = _parse(write_timeline_csv, session, account=account, on=day)
    assert [r["user"] for r in owners] == ["x@example.com"]
    assert [r["account_external_id"] for r in _parse(write_book_csv, session, user=x, on=day)] == [
        "A"
    ]
    assert _parse(write_book_csv, session, user=x, on=today()) == []
    assert [r["user"] for r in _parse(write_book_csv, session, user=y, on=today())] == [
        "y@example.com"
    ]
