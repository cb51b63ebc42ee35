"""API date parameters take ``today`` and ``yesterday`` beside ISO dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.dates import today
from bookwise.db import write_session
from tests.factories import actor, make_account, make_user

Api = Callable[..., TestClient]


def test_history_on_today_and_yesterday(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="Ana")
        make_account(session, "Alpha", external_id="A1")
        assign_accounts(session, selection=AccountRefs(["A1"]), csms=[ana], actor=actor(session))
    client = api_as("viewer")

    def on(day: str) -> dict[str, object]:
        response = client.get("/api/v1/accounts/A1/history", params={"on": day})
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    now = on("today")
    assert [row["user"] for row in now["items"]] == ["ana@example.com"]  # type: ignore[attr-defined]
    assert now["on"] == today().isoformat()
    before = on("Yesterday")
    assert (before["items"], before["on"]) == ([], (today() - timedelta(days=1)).isoformat())
    assert on(today().isoformat()) == now
    refused = client.get("/api/v1/accounts/A1/history", params={"on": "tomorrow"})
    assert refused.status_code == 422
    assert "today or yesterday" in refused.text


def test_the_openapi_document_names_today_and_yesterday(api_as: Api) -> None:
    spec = api_as("viewer").get("/api/v1/openapi.json").json()
    history = spec["paths"]["/api/v1/accounts/{ref}/history"]["get"]
    (on,) = [p for p in history["parameters"] if p["name"] == "on"]
    assert "'enum': ['today', 'yesterday']" in str(on["schema"])
