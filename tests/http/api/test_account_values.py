"""GET /accounts/{ref}/values: an account's value history, written by the API's own edits."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import write_session
from tests.factories import make_account

Api = Callable[..., TestClient]


def test_api_edits_are_in_the_value_history_by_name(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_account(session, "Parent Co", external_id="P")
    api = api_as("manager")
    created = api.post("/api/v1/accounts", json={"name": "Child", "external_id": "C", "mrr": "10"})
    assert created.status_code == 201, created.text
    edited = api.patch("/api/v1/accounts/C", json={"mrr": "12.50", "health_score": 30})
    assert edited.status_code == 200, edited.text
    moved = api.patch("/api/v1/accounts/C", json={"parent": "P"})
    assert moved.status_code == 200, moved.text

    body = api.get("/api/v1/accounts/C/values").json()

    shown = [(i["field"], i["previous"], i["value"], i["source"]) for i in body["items"]]
    assert shown == [
        ("parent", None, "P (Parent Co)", "move"),
        ("health_score", None, "30", "api"),
        ("mrr", "10.00", "12.50", "api"),
        ("mrr", None, "10.00", "api"),
    ]
    assert body["total"] == 4
    assert body["items"][0]["operation_id"] == moved.json()["move"]["operation_id"]
    assert body["items"][2]["until"] is None
    assert body["items"][3]["until"] == body["items"][2]["changed_at"]
    assert {i["by_email"] for i in body["items"]} == {body["items"][0]["by_email"]}
    only = api.get("/api/v1/accounts/C/values", params={"field": "mrr", "limit": 1}).json()
    assert ([i["value"] for i in only["items"]], only["total"]) == (["12.50"], 2)


def test_unknown_account_and_field_are_clear_errors(engine: Engine, api_as: Api) -> None:
    api = api_as("viewer")
    assert api.get("/api/v1/accounts/NOPE/values").status_code == 404
    with write_session(engine) as session:
        make_account(session, external_id="A")
    bad = api.get("/api/v1/accounts/A/values", params={"field": "name"})
    assert bad.status_code == 422
    assert "field" in bad.text
