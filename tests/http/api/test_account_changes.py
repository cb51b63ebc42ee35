"""POST /accounts and PATCH /accounts/{ref}: add, edit and move accounts through the API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from bookwise.accounts.service import declare_attribute
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.models import AuditEvent
from tests.factories import actor, make_account, make_user

Api = Callable[..., TestClient]


def _parent_owned_by_ana(engine: Engine) -> None:
    with write_session(engine) as session:
        me = actor(session)
        ana = make_user(session, "ana@example.com", name="Ana")
        make_account(session, "Parent", external_id="P")
        make_account(session, "Other", external_id="O")
        assign_accounts(session, selection=AccountRefs(["P"]), csms=[ana], actor=me)
        declare_attribute(session, name="seats", type="number", actor=me)


def test_add_an_account_under_a_parent_inherits_at_once(engine: Engine, api_as: Api) -> None:
    _parent_owned_by_ana(engine)
    api = api_as("manager")
    response = api.post(
        "/api/v1/accounts",
        json={
            "name": "Child",
            "external_id": "C",
            "parent": "P",
            "inherit_policy": "inherit",
            "mrr": "1250.50",
            "tier": "Tier 2",
            "custom": {"seats": 12},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    account = body["account"]
    assert (account["mrr"], account["tier"], account["custom"]) == ("1250.50", 2, {"seats": 12})
    assert account["parent"]["external_id"] == "P"
    assert [o["email"] for o in account["owners"]["csm"]] == ["ana@example.com"]
    assert body["inheritance"]["inherited_opened"] == 1
    top = api.post("/api/v1/accounts", json={"name": "Top"}).json()
    assert top["inheritance"] is None


def test_add_refuses_what_the_cli_refuses(engine: Engine, api_as: Api) -> None:
    _parent_owned_by_ana(engine)
    api = api_as("manager")
    bad = api.post("/api/v1/accounts", json={"name": "X", "health_score": 140})
    assert bad.status_code == 422
    assert "health_score" in bad.json()["detail"]
    assert api.post("/api/v1/accounts", json={"name": "X", "mrr": "lots"}).status_code == 422
    taken = api.post("/api/v1/accounts", json={"name": "X", "external_id": "P"})
    assert taken.status_code == 409
    assert api.post("/api/v1/accounts", json={"name": "X", "parent": "nope"}).status_code == 404
    unknown = api.post("/api/v1/accounts", json={"name": "X", "custom": {"nope": 1}})
    assert unknown.status_code == 422
    assert api_as("viewer").post("/api/v1/accounts", json={"name": "X"}).status_code == 403
    assert api.get("/api/v1/accounts").json()["total"] == 2


def test_patch_edits_fields_and_records_them(engine: Engine, api_as: Api) -> None:
    _parent_owned_by_ana(engine)
    api = api_as("manager")
    response = api.patch(
        "/api/v1/accounts/O",
        json={"name": "Other Inc", "mrr": "99.90", "region": "EMEA", "custom": {"seats": "3"}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] == ["custom", "mrr", "name", "region"]
    assert body["move"] is None
    cleared = api.patch("/api/v1/accounts/O", json={"region": None, "custom": {"seats": None}})
    assert cleared.json()["account"]["region"] is None
    assert cleared.json()["account"]["custom"] == {}
    assert api.patch("/api/v1/accounts/O", json={"name": None}).status_code == 422
    assert api.patch("/api/v1/accounts/O", json={"external_id": "P"}).status_code == 409
    assert api.patch("/api/v1/accounts/O", json={"inherit_policy": "own"}).status_code == 422
    with write_session(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.updated")
        ).all()
        assert [sorted(e.details) for e in events] == [
            ["custom", "mrr", "name", "region"],
            ["custom", "region"],
        ]


def test_patch_moves_with_preview_fingerprint_and_undo(engine: Engine, api_as: Api) -> None:
    _parent_owned_by_ana(engine)
    api = api_as("manager")
    api.post("/api/v1/assignments/inherit", json={"ids": ["O"], "policy": "inherit"})
    preview = api.patch(
        "/api/v1/accounts/O", json={"parent": "P", "name": "Renamed", "dry_run": True}
    ).json()
    assert preview["dry_run"] is True
    assert preview["account"]["parent"]["external_id"] == "P"  # as it would be
    assert preview["move"]["inherited_opened"] == 1
    assert preview["move"]["operation_id"] is None
    shown = api.get("/api/v1/accounts/O").json()
    assert (shown["parent"], shown["name"], shown["owners"]) == (None, "Other", {})

    stale = api.patch("/api/v1/accounts/O", json={"parent": "P", "fingerprint": "0" * 16})
    assert stale.status_code == 409
    done = api.patch(
        "/api/v1/accounts/O",
        json={"parent": "P", "fingerprint": preview["move"]["fingerprint"]},
    ).json()
    assert [o["email"] for o in done["account"]["owners"]["csm"]] == ["ana@example.com"]
    operation = done["move"]["operation_id"]
    assert api.post(f"/api/v1/operations/{operation}/undo", json={}).status_code == 200
    assert api.get("/api/v1/accounts/O").json()["parent"] is None

    cycle = api.patch("/api/v1/accounts/P", json={"parent": "P"})
    assert cycle.status_code == 409
    no_move = api.patch("/api/v1/accounts/O", json={"fingerprint": "0" * 16})
    assert no_move.status_code == 422
    top = api.patch("/api/v1/accounts/O", json={"parent": None}).json()
    assert top["move"]["accounts_changed"] == 0
