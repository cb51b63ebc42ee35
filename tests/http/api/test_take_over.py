"""POST /api/v1/assignments/take-over: the same operation as the CLI's take-over."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.models import Account
from tests.factories import actor, make_account, make_user
from tests.helpers import open_csms

Api = Callable[..., TestClient]


def _owners(engine: Engine, ref: str) -> set[str]:
    with read_session(engine) as session:
        account = session.query(Account).filter_by(external_id=ref).one()
        return open_csms(session, account)


def test_take_over_previews_then_applies_with_the_fingerprint(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com")
        ben = make_user(session, "ben@example.com")
        make_user(session, "rep@example.com")
        for ref in ("A", "B"):
            make_account(session, external_id=ref)
        assign_accounts(
            session, selection=AccountRefs(["A"]), csms=[ana, ben], actor=actor(session)
        )
    manager = api_as("manager")
    body = {"ids": ["A", "B"], "to": "rep@example.com"}
    preview = manager.post("/api/v1/assignments/take-over", json={**body, "dry_run": True})
    assert preview.status_code == 200, preview.text
    assert preview.json()["accounts_changed"] == 2
    assert _owners(engine, "A") == {"ana@example.com", "ben@example.com"}

    done = manager.post(
        "/api/v1/assignments/take-over",
        json={**body, "fingerprint": preview.json()["fingerprint"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["kind"] == "take_over"
    assert [(i["ref"], i["outcome"]) for i in done.json()["items"]] == [
        ("A", "transferred"),
        ("B", "transferred"),
    ]
    assert _owners(engine, "A") == _owners(engine, "B") == {"rep@example.com"}


def test_take_over_with_a_filter_and_the_viewer_is_refused(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com")
        make_user(session, "rep@example.com")
        make_account(session, external_id="A")
        make_account(session, external_id="N")
        assign_accounts(session, selection=AccountRefs(["A"]), csms=[ana], actor=actor(session))
    body = {"not_assigned_to": "rep@example.com", "who": "others", "to": "rep@example.com"}
    assert api_as("viewer").post("/api/v1/assignments/take-over", json=body).status_code == 403
    done = api_as("manager").post("/api/v1/assignments/take-over", json=body)
    assert done.status_code == 200, done.text
    assert done.json()["counts"] == {"transferred": 1}
    assert _owners(engine, "A") == {"rep@example.com"}
    assert _owners(engine, "N") == set()
