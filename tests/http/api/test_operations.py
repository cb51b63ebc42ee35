"""GET /operations, GET /operations/{id}, POST /operations/{id}/undo."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import read_session, write_session
from tests.factories import make_account, make_user
from tests.helpers import chain_violations, ownership_snapshot

Api = Callable[..., TestClient]


def _setup(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_user(session, "ben@example.com")
        for n in range(1, 4):
            make_account(session, external_id=f"A{n}")


def _snapshot(engine: Engine) -> dict[int, frozenset[tuple[int, str]]]:
    with read_session(engine) as session:
        return ownership_snapshot(session)


def test_operations_are_listed_newest_first_and_shown(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    manager = api_as("manager")
    for ref in ("A1", "A2", "A3"):
        manager.post("/api/v1/assignments/assign", json={"ids": [ref], "to": ["ana@example.com"]})
    page = manager.get("/api/v1/operations", params={"limit": 2}).json()
    assert page["total"] == 3
    assert (page["limit"], page["offset"]) == (2, 0)
    assert [op["id"] for op in page["items"]] == [3, 2]
    newest = page["items"][0]
    assert newest["kind"] == "assign"
    assert newest["actor"].startswith("api-manager")
    assert newest["parameters"]["to"] == ["ana@example.com"]
    assert newest["counts"] == {"assigned": 1}
    assert manager.get("/api/v1/operations/3").json() == newest
    assert manager.get("/api/v1/operations/99").status_code == 404
    assert api_as("viewer").get("/api/v1/operations").status_code == 200


def test_undo_restores_exactly_and_is_itself_an_operation(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    manager = api_as("manager")
    manager.post(
        "/api/v1/assignments/assign", json={"ids": ["A1", "A2"], "to": ["ana@example.com"]}
    )
    before = _snapshot(engine)
    transfer = manager.post(
        "/api/v1/assignments/transfer", json={"from": "ana@example.com", "to": "ben@example.com"}
    ).json()
    preview = manager.post(
        f"/api/v1/operations/{transfer['operation_id']}/undo", json={"dry_run": True}
    ).json()
    assert preview["dry_run"] is True
    assert preview["operation_id"] is None
    assert _snapshot(engine) != before
    undone = manager.post(f"/api/v1/operations/{transfer['operation_id']}/undo")
    assert undone.status_code == 200, undone.text
    assert undone.json()["kind"] == "undo"
    assert _snapshot(engine) == before
    shown = manager.get(f"/api/v1/operations/{transfer['operation_id']}").json()
    assert shown["undone_by"] == undone.json()["operation_id"]
    again = manager.post(f"/api/v1/operations/{transfer['operation_id']}/undo")
    assert again.status_code == 409
    assert "already undone" in again.json()["detail"]
    with read_session(engine) as session:
        assert chain_violations(session) == []


def test_undo_with_a_later_conflict_is_a_409_naming_it(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    manager = api_as("manager")
    first = manager.post(
        "/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana@example.com"]}
    ).json()
    manager.post("/api/v1/assignments/unassign", json={"ids": ["A1"], "from": "ana@example.com"})
    refused = manager.post(f"/api/v1/operations/{first['operation_id']}/undo")
    assert refused.status_code == 409
    assert "#2 (unassign)" in refused.json()["detail"]
    assert manager.post("/api/v1/operations/99/undo").status_code == 404
    assert api_as("viewer").post("/api/v1/operations/1/undo").status_code == 403


def test_undo_with_a_stale_fingerprint_is_a_409_and_changes_nothing(
    engine: Engine, api_as: Api
) -> None:
    _setup(engine)
    manager = api_as("manager")
    manager.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana@example.com"]})
    transfer = manager.post(
        "/api/v1/assignments/transfer", json={"from": "ana@example.com", "to": "ben@example.com"}
    ).json()
    url = f"/api/v1/operations/{transfer['operation_id']}/undo"
    preview = manager.post(url, json={"dry_run": True}).json()
    with write_session(engine) as session:
        make_user(session, "cy@example.com")
    manager.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["cy@example.com"]})
    before = _snapshot(engine)

    stale = manager.post(url, json={"fingerprint": preview["fingerprint"]})

    assert stale.status_code == 409, stale.text
    assert "no longer those previewed" in stale.json()["detail"]
    assert _snapshot(engine) == before
    fresh = manager.post(url, json={"dry_run": True}).json()["fingerprint"]
    assert manager.post(url, json={"fingerprint": fresh}).status_code == 200
