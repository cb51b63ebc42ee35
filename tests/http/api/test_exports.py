"""GET /api/v1/export/users and /export/history: the files ``bookwise export`` writes."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.csvsafe import EXPORT_MARKER
from bookwise.db import read_session, write_session
from bookwise.exporting import write_history_csv, write_users_csv
from bookwise.http.app import create_app
from tests.factories import actor, make_account, make_user

Api = Callable[..., TestClient]


def cli_file(engine: Engine, **history: str) -> bytes:
    """What ``bookwise export users`` (no arguments) or ``export history`` writes."""
    out = io.StringIO(newline="")
    with read_session(engine) as session:
        if history:
            write_history_csv(session, out, **history)  # type: ignore[arg-type]
        else:
            write_users_csv(session, out)
    return out.getvalue().encode()


def _ana_owned_acme(engine: Engine) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="=HYPERLINK(1)")
        make_account(session, "Acme", external_id="ACME-1")
        make_account(session, "Beta", external_id="BETA-1")
        refs = AccountRefs(["ACME-1", "BETA-1"])
        assign_accounts(session, selection=refs, csms=[ana], actor=actor(session))
        unassign_accounts(session, selection=AccountRefs(["BETA-1"]), csm=ana, actor=actor(session))


def test_users_export_is_the_cli_file_and_formula_safe(engine: Engine, api_as: Api) -> None:
    _ana_owned_acme(engine)
    response = api_as("viewer").get("/api/v1/export/users")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="users.csv"'
    assert response.content == cli_file(engine)
    lines = response.text.split("\r\n")
    assert lines[0] == EXPORT_MARKER
    assert lines[1] == '"email","name","role","csm_seat","active","external_id"'
    assert '"ana@example.com","\'=HYPERLINK(1)","manager","true","true",""' in lines


def test_history_export_of_an_account_and_of_a_book(engine: Engine, api_as: Api) -> None:
    _ana_owned_acme(engine)
    viewer = api_as("viewer")
    timeline = viewer.get("/api/v1/export/history", params={"account": "BETA-1"})
    assert timeline.status_code == 200, timeline.text
    assert timeline.content == cli_file(engine, account="BETA-1")
    assert timeline.headers["content-disposition"] == 'attachment; filename="history-BETA-1.csv"'
    rows = [line for line in timeline.text.split("\r\n")[2:] if line]
    assert len(rows) == 1
    assert '"BETA-1","Beta","ana@example.com","csm"' in rows[0]
    book = viewer.get("/api/v1/export/history", params={"csm": "ana@example.com", "on": "today"})
    assert book.status_code == 200
    assert book.content == cli_file(engine, csm="ana@example.com")
    assert [line.split(",")[0] for line in book.text.split("\r\n")[2:] if line] == ['"ACME-1"']


def test_history_export_says_what_is_wrong(engine: Engine, api_as: Api) -> None:
    viewer = api_as("viewer")
    neither = viewer.get("/api/v1/export/history")
    assert neither.status_code == 422
    assert neither.json()["detail"] == (
        "name either an account or a CSM (one of the two) to export history"
    )
    both = viewer.get("/api/v1/export/history", params={"account": "A", "csm": "a@example.com"})
    assert both.status_code == 422
    unknown = viewer.get("/api/v1/export/history", params={"account": "NOPE-9"})
    assert unknown.status_code == 404
    assert "NOPE-9" in unknown.json()["detail"]
    bad_day = viewer.get("/api/v1/export/history", params={"account": "A", "on": "someday"})
    assert bad_day.status_code == 422


def test_exports_need_a_signed_in_caller(engine: Engine) -> None:
    client = TestClient(create_app(engine))
    for path in ("/api/v1/export/users", "/api/v1/export/history?account=A"):
        assert client.get(path).status_code == 401
