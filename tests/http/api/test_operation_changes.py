"""GET /operations/{id}/changes, the operations log's filters, GET /csms/{user}/book."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import write_session
from tests.factories import make_account, make_user

Api = Callable[..., TestClient]


def _setup(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com", name="Ana Lima")
        make_user(session, "ben@example.com", name="Ben Ode")
        make_account(session, "Zeta Corp", external_id="Z1")
        make_account(session, "Acme Inc", external_id="A1")
        make_account(session, "Beta Ltd", external_id="B1")


def test_an_operations_changes_are_listed_paged_and_filtered(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    manager = api_as("manager")
    manager.post(
        "/api/v1/assignments/assign", json={"ids": ["A1", "Z1"], "to": ["ana@example.com"]}
    )
    moved = manager.post(
        "/api/v1/assignments/transfer", json={"from": "ana@example.com", "to": "Ben Ode"}
    ).json()
    url = f"/api/v1/operations/{moved['operation_id']}/changes"
    viewer = api_as("viewer")

    page = viewer.get(url).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 50, 0)
    assert [(c["account"], c["action"], c["user_name"]) for c in page["items"]] == [
        ("Acme Inc", "close", "Ana Lima"),
        ("Acme Inc", "open", "Ben Ode"),
        ("Zeta Corp", "close", "Ana Lima"),
        ("Zeta Corp", "open", "Ben Ode"),
    ]
    first = page["items"][0]
    assert set(first) == {
        "action",
        "at",
        "account_id",
        "external_id",
        "account",
        "user",
        "user_name",
        "role",
        "source",
        "reason",
        "is_primary",
    }
    assert first["user"] == "ana@example.com"

    def accounts(**params: object) -> list[tuple[str, str]]:
        got = viewer.get(url, params=params)
        assert got.status_code == 200, got.text
        return [(c["external_id"], c["action"]) for c in got.json()["items"]]

    assert accounts(action="open") == [("A1", "open"), ("Z1", "open")]
    assert accounts(owner="Ana Lima") == [("A1", "close"), ("Z1", "close")]
    assert accounts(owner="ben@example.com", account="zeta") == [("Z1", "open")]
    assert accounts(account="A1") == [("A1", "close"), ("A1", "open")]
    assert accounts(sort="-account", limit=1, offset=1) == [("Z1", "close")]
    assert viewer.get(url, params={"action": "moved"}).status_code == 422
    assert viewer.get(url, params={"sort": "mrr"}).status_code == 422
    assert viewer.get(url, params={"owner": "nobody@example.com"}).status_code == 404
    assert viewer.get("/api/v1/operations/999/changes").status_code == 404


def test_the_operations_log_filters(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    manager = api_as("manager")
    manager.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana@example.com"]})
    manager.post("/api/v1/assignments/assign", json={"ids": ["B1"], "to": ["ana@example.com"]})
    manager.post(
        "/api/v1/assignments/transfer", json={"from": "ana@example.com", "to": "ben@example.com"}
    )

    def kinds(**params: object) -> list[tuple[int, str]]:
        got = manager.get("/api/v1/operations", params=params)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["total"] == len(body["items"])
        return [(op["id"], op["kind"]) for op in body["items"]]

    assert kinds(kind="assign") == [(2, "assign"), (1, "assign")]
    assert kinds(account="B1") == [(3, "transfer"), (2, "assign")]
    assert kinds(since="today", until="today", kind="transfer") == [(3, "transfer")]
    assert kinds(until="yesterday") == []
    me = manager.get("/api/v1/me").json()["email"]
    assert len(kinds(actor=me)) == 3
    assert manager.get("/api/v1/operations", params={"kind": "nope"}).status_code == 422
    assert manager.get("/api/v1/operations", params={"account": "NOPE"}).status_code == 404
    newest = manager.get("/api/v1/operations", params={"limit": 1}).json()["items"][0]
    assert "actor_name" in newest


def test_a_csms_book_on_a_day(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    manager = api_as("manager")
    manager.post(
        "/api/v1/assignments/assign", json={"ids": ["Z1", "A1"], "to": ["ana@example.com"]}
    )
    viewer = api_as("viewer")
    book = viewer.get("/api/v1/csms/Ana Lima/book", params={"on": "today", "limit": 1}).json()
    assert (book["user"], book["user_name"], book["total"]) == ("ana@example.com", "Ana Lima", 2)
    assert [row["account"] for row in book["items"]] == ["Acme Inc"]
    before = viewer.get("/api/v1/csms/ana@example.com/book", params={"on": "2000-01-01"}).json()
    assert (before["total"], before["on"]) == (0, "2000-01-01")
    assert viewer.get("/api/v1/csms/nobody@example.com/book").status_code == 404
