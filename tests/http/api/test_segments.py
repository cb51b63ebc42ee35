"""Segments: create, show, change, delete, members, refresh."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import write_session
from tests.factories import make_account, make_user

Api = Callable[..., TestClient]


def _accounts(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com", name="Ana Lima")
        for n, (tier, region) in enumerate([(1, "EMEA"), (1, "EMEA"), (2, "EMEA"), (1, "AMER")]):
            make_account(session, f"Account {n}", external_id=f"S{n}", tier=tier, region=region)


def test_segment_lifecycle(engine: Engine, api_as: Api) -> None:
    _accounts(engine)
    manager = api_as("manager")
    created = manager.post(
        "/api/v1/segments",
        json={"name": "  Enterprise   EMEA ", "rule": 'tier = 1 and region = "EMEA"'},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Enterprise EMEA"
    assert body["rule"] == 'tier = 1 and region = "EMEA"'
    assert body["live_members"] == 2
    assert body["members"] == 0  # never refreshed
    assert body["refreshed_at"] is None
    assert body["rule_ast"]["kind"] == "and"
    assert body["english"]

    duplicate = manager.post(
        "/api/v1/segments", json={"name": "enterprise emea", "rule": "tier = 1"}
    )
    assert duplicate.status_code == 409

    shown = manager.get("/api/v1/segments/ENTERPRISE EMEA").json()
    assert shown == body

    listing = manager.get("/api/v1/segments").json()
    assert listing["total"] == 1
    assert listing["items"][0]["name"] == "Enterprise EMEA"

    members = manager.get("/api/v1/segments/Enterprise EMEA/members", params={"limit": 1})
    assert members.json()["total"] == 2
    assert [a["external_id"] for a in members.json()["items"]] == ["S0"]
    assert members.json()["filter"] == "segment: Enterprise EMEA"

    changed = manager.patch("/api/v1/segments/Enterprise EMEA", json={"rule": "tier = 1"})
    assert changed.json()["live_members"] == 3
    renamed = manager.patch("/api/v1/segments/Enterprise EMEA", json={"name": "Tier one"})
    assert renamed.json()["name"] == "Tier one"
    assert manager.get("/api/v1/segments/Enterprise EMEA").status_code == 404
    assert manager.patch("/api/v1/segments/Tier one", json={}).status_code == 422

    deleted = manager.delete("/api/v1/segments/Tier one")
    assert deleted.status_code == 204
    assert manager.get("/api/v1/segments").json() == {"items": [], "total": 0}
    assert manager.delete("/api/v1/segments/Tier one").status_code == 404


def test_a_segment_in_use_cannot_be_deleted_and_renames_follow(engine: Engine, api_as: Api) -> None:
    _accounts(engine)
    manager = api_as("manager")
    manager.post("/api/v1/segments", json={"name": "EMEA", "rule": 'region = "EMEA"'})
    manager.post(
        "/api/v1/segments", json={"name": "Big EMEA", "rule": "in segment EMEA and tier = 1"}
    )
    refused = manager.delete("/api/v1/segments/EMEA")
    assert refused.status_code == 409
    assert "Big EMEA" in refused.json()["detail"]
    assert manager.get("/api/v1/segments/EMEA").json()["used_by"] == ["Big EMEA"]
    manager.patch("/api/v1/segments/EMEA", json={"name": "Europe"})
    assert manager.get("/api/v1/segments/Big EMEA").json()["rule"].startswith('in segment "Europe"')


def test_segment_rules_are_checked_when_saved(engine: Engine, api_as: Api) -> None:
    _accounts(engine)
    manager = api_as("manager")
    bad = manager.post("/api/v1/segments", json={"name": "X", "rule": "tier = "})
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/invalid-rule")
    assert isinstance(bad.json()["position"], int)
    cycle = manager.post("/api/v1/segments", json={"name": "Loop", "rule": "in segment Loop"})
    assert cycle.status_code == 422
    by_name = manager.post("/api/v1/segments", json={"name": "Ana's", "rule": 'csm = "Ana Lima"'})
    assert by_name.status_code == 201, by_name.text
    assert by_name.json()["rule"] == 'csm = "ana@example.com"'  # stored by email


def test_viewers_read_segments_but_do_not_change_them(engine: Engine, api_as: Api) -> None:
    viewer = api_as("viewer")
    assert viewer.get("/api/v1/segments").status_code == 200
    refused = viewer.post("/api/v1/segments", json={"name": "X", "rule": "tier = 1"})
    assert refused.status_code == 403
    assert viewer.post("/api/v1/segments/refresh", json={}).status_code == 403


def test_refresh_records_who_entered_and_left(engine: Engine, api_as: Api) -> None:
    _accounts(engine)
    manager = api_as("manager")
    manager.post("/api/v1/segments", json={"name": "Tier 1", "rule": "tier = 1"})
    manager.post("/api/v1/segments", json={"name": "AMER", "rule": 'region = "AMER"'})
    first = manager.post("/api/v1/segments/refresh").json()
    assert first["total"] == 2
    assert {r["segment"]: (r["entered"], r["left"], r["members"]) for r in first["items"]} == {
        "Tier 1": (3, 0, 3),
        "AMER": (1, 0, 1),
    }
    with write_session(engine) as session:
        make_account(session, "New", external_id="S9", tier=1)
    second = manager.post("/api/v1/segments/refresh", json={"names": ["tier 1"]}).json()
    assert [(r["segment"], r["entered"], r["members"]) for r in second["items"]] == [
        ("Tier 1", 1, 4)
    ]
    listed = {s["name"]: s["members"] for s in manager.get("/api/v1/segments").json()["items"]}
    assert listed == {"AMER": 1, "Tier 1": 4}
    assert manager.post("/api/v1/segments/refresh", json={"names": ["nope"]}).status_code == 404
