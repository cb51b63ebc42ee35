"""POST /api/v1/import/users (issue 15): the CLI's users import, dry run first, admins only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from bookwise.config import get_settings
from bookwise.db import read_session, write_session
from bookwise.models import AuditEvent, User
from tests.factories import make_user

Api = Callable[..., TestClient]
IMPORT = "/api/v1/import/users"
FILE = (
    "Email,Name,Role,CSM Seat,Team\n"
    "ana@example.com,Ana Silva,manager,yes,EMEA\n"
    "ben@example.com,Ben Okafor,boss,no,EMEA\n"  # line 3: no such role
    "old@example.com,Old Name Changed,viewer,no,US\n"
)


def send(client: TestClient, text: str, **fields: str) -> dict[str, object]:
    """POST the file as a form upload; the JSON report (any status)."""
    response = client.post(
        IMPORT, files={"file": ("users.csv", text.encode(), "text/csv")}, data=fields
    )
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body


def people(engine: Engine) -> dict[str, tuple[str, str]]:
    """Email -> (name, role) of every human user."""
    with read_session(engine) as session:
        rows = session.execute(select(User.email, User.name, User.role).where(~User.is_system))
        return {email: (name, role) for email, name, role in rows}


def test_a_dry_run_shows_mapping_and_line_numbered_problems_and_writes_nothing(
    engine: Engine, api_as: Api
) -> None:
    with write_session(engine) as session:
        make_user(session, "old@example.com", name="Old Name")
    client = api_as("admin")
    before = people(engine)

    report = send(client, FILE, dry_run="true")

    assert report["status"] == 200
    assert report["mapping"] == [
        {"column": "Email", "field": "email"},
        {"column": "Name", "field": "name"},
        {"column": "Role", "field": "role"},
        {"column": "CSM Seat", "field": "csm_seat"},
    ]
    assert report["ignored_columns"] == ["Team"]
    assert (report["rows_read"], report["created"], report["updated"], report["failed"]) == (
        3,
        1,
        1,
        1,
    )
    assert report["errors"] == [
        {
            "line": 3,
            "column": "Role",
            "value": "boss",
            "reason": "'boss' is not admin, manager or viewer",
        }
    ]
    assert (report["dry_run"], report["written"], report["error_count"]) == (True, False, 1)
    assert people(engine) == before


def test_the_import_writes_the_good_rows_through_the_users_service(
    engine: Engine, api_as: Api
) -> None:
    with write_session(engine) as session:
        make_user(session, "old@example.com", name="Old Name")
    client = api_as("admin")

    report = send(client, FILE)

    assert (report["written"], report["created"], report["updated"], report["failed"]) == (
        True,
        1,
        1,
        1,
    )
    after = people(engine)
    assert after["ana@example.com"] == ("Ana Silva", "manager")
    assert after["old@example.com"] == ("Old Name Changed", "viewer")
    assert "ben@example.com" not in after
    with read_session(engine) as session:  # the same audit events as the CLI's import
        sources = session.scalars(
            select(AuditEvent.details).where(AuditEvent.subject_key == "old@example.com")
        ).all()
    assert any(details.get("source") == "import" for details in sources)


def test_all_or_nothing_writes_nothing_when_a_row_fails(engine: Engine, api_as: Api) -> None:
    client = api_as("admin")
    before = people(engine)

    report = send(client, FILE, all_or_nothing="true")

    assert (report["written"], report["dry_run"], report["failed"]) == (False, False, 1)
    assert people(engine) == before


def test_a_file_without_an_email_column_is_a_clear_error(engine: Engine, api_as: Api) -> None:
    report = send(api_as("admin"), "Name,Role\nAna,viewer\n")
    assert report["status"] == 422
    assert report["detail"] == "a users file needs an email column"


def test_only_admins_import_users(engine: Engine, api_as: Api) -> None:
    for role in ("viewer", "manager"):
        report = send(api_as(role), "Email,Role\nboss@example.com,admin\n")
        assert report["status"] == 403, role
    assert "boss@example.com" not in people(engine)


def test_the_upload_may_be_larger_than_a_json_body_up_to_the_upload_limit(
    engine: Engine, api_as: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # About 2 MiB (a long ignored column; one email repeated): over the JSON body limit.
    notes = "n" * 1000
    big = "Email,Notes\n" + "".join(f"same@example.com,{notes}\n" for _ in range(2_000))
    assert len(big) > get_settings().max_body_mib * 1024 * 1024
    client = api_as("admin")
    report = send(client, big, dry_run="true")
    assert report["status"] == 200, report
    assert (report["created"], report["failed"], report["error_count"]) == (1, 1_999, 1_999)
    assert len(report["errors"]) == 1_000  # type: ignore[arg-type]
    monkeypatch.setattr(get_settings(), "max_upload_mib", 1)
    refused = send(client, big, dry_run="true")
    assert refused["status"] == 413
    assert "BOOKWISE_MAX_UPLOAD_MIB" in str(refused["detail"])


def test_a_retry_with_the_same_key_imports_once(engine: Engine, api_as: Api) -> None:
    client = api_as("admin")
    key = {"Idempotency-Key": "users-1"}
    upload = {"file": ("users.csv", b"Email,Name\nnew@example.com,New\n", "text/csv")}
    first = client.post(IMPORT, files=upload, headers=key)
    again = client.post(IMPORT, files=upload, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    with read_session(engine) as session:
        created = session.scalar(
            select(func.count()).select_from(User).where(User.email == "new@example.com")
        )
    assert created == 1
