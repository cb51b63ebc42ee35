"""Idempotency-Key: a retry returns the first response and changes nothing twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from bookwise import db
from bookwise.auth import idempotency
from bookwise.db import is_sqlite, read_session, write_session
from bookwise.models import IdempotentRequest, Operation, utcnow
from tests.factories import make_account, make_user
from tests.helpers import chain_violations

Api = Callable[..., TestClient]
ASSIGN = "/api/v1/assignments/assign"
BODY = {"ids": ["A1", "A2"], "to": ["ana@example.com"]}


def _setup(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_user(session, "ben@example.com")
        make_account(session, external_id="A1")
        make_account(session, external_id="A2")


def _count(engine: Engine, model: type[Any]) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_retry_returns_the_first_response_and_changes_nothing(
    engine: Engine, api_as: Api
) -> None:
    _setup(engine)
    client = api_as("manager")
    key = {"Idempotency-Key": "assign-1"}
    first = client.post(ASSIGN, json=BODY, headers=key)
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    retry = client.post(ASSIGN, json={"to": ["ana@example.com"], "ids": ["A1", "A2"]}, headers=key)
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()  # "assigned" twice, not "already_assigned"
    assert [i["outcome"] for i in retry.json()["items"]] == ["assigned", "assigned"]
    assert _count(engine, Operation) == 1
    without_key = client.post(ASSIGN, json=BODY).json()
    assert [i["outcome"] for i in without_key["items"]] == ["already_assigned"] * 2


def test_the_same_key_with_another_body_is_a_422(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    client = api_as("manager")
    key = {"Idempotency-Key": "k"}
    assert client.post(ASSIGN, json=BODY, headers=key).status_code == 200
    other = client.post(ASSIGN, json={**BODY, "ids": ["A1"]}, headers=key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    elsewhere = client.post(
        "/api/v1/assignments/unassign", json={"ids": ["A1"], "from": "ana@example.com"}, headers=key
    )
    assert elsewhere.status_code == 422
    assert _count(engine, Operation) == 1


def test_keys_belong_to_their_user(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    key = {"Idempotency-Key": "shared"}
    first = api_as("manager").post(ASSIGN, json=BODY, headers=key)
    second = api_as("manager").post(ASSIGN, json=BODY, headers=key)
    assert "Idempotent-Replayed" not in second.headers
    assert [i["outcome"] for i in second.json()["items"]] == ["already_assigned"] * 2
    assert first.json() != second.json()


def test_a_failed_request_is_not_stored_and_can_be_retried(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    client = api_as("manager")
    key = {"Idempotency-Key": "retry-me"}
    body = {"ids": ["A1"], "to": ["carl@example.com"]}
    assert client.post(ASSIGN, json=body, headers=key).status_code == 404
    assert _count(engine, IdempotentRequest) == 0
    with write_session(engine) as session:
        make_user(session, "carl@example.com")
    retried = client.post(ASSIGN, json=body, headers=key)
    assert retried.status_code == 200
    assert retried.json()["items"][0]["outcome"] == "assigned"


def test_every_ownership_post_takes_a_key(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    client = api_as("manager")
    client.post(ASSIGN, json=BODY)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/assignments/unassign", {"ids": ["A1"], "from": "ana@example.com"}),
        ("/api/v1/assignments/transfer", {"from": "ana@example.com", "to": "ben@example.com"}),
        ("/api/v1/assignments/inherit", {"default_policy": "inherit"}),
    ]
    for n, (url, body) in enumerate(calls):
        key = {"Idempotency-Key": f"call-{n}"}
        first = client.post(url, json=body, headers=key)
        assert first.status_code == 200, (url, first.text)
        again = client.post(url, json=body, headers=key)
        assert again.json() == first.json(), url
        assert again.headers["Idempotent-Replayed"] == "true"
    operations = _count(engine, Operation)
    undo = "/api/v1/operations/2/undo"
    first = client.post(undo, headers={"Idempotency-Key": "undo"})
    assert first.status_code == 200, first.text
    again = client.post(undo, headers={"Idempotency-Key": "undo"})
    assert again.json() == first.json()
    assert _count(engine, Operation) == operations + 1


def test_an_import_is_idempotent_too(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    client = api_as("manager")
    csv = b"external_id,name,csms\nN1,New one,ana@example.com\n"
    key = {"Idempotency-Key": "import-1"}
    upload = {"file": ("accounts.csv", csv, "text/csv")}
    first = client.post("/api/v1/import/accounts", files=upload, headers=key)
    assert first.json()["created"] == 1, first.text
    again = client.post("/api/v1/import/accounts", files=upload, headers=key)
    assert again.json() == first.json()
    other_file = {"file": ("accounts.csv", csv + b"N2,Two,\n", "text/csv")}
    assert client.post("/api/v1/import/accounts", files=other_file, headers=key).status_code == 422


def test_a_key_expires_after_24_hours(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    client = api_as("manager")
    key = {"Idempotency-Key": "old"}
    client.post(ASSIGN, json=BODY, headers=key)
    client.post(ASSIGN, json=BODY, headers={"Idempotency-Key": "other"})
    with write_session(engine) as session:
        session.execute(update(IdempotentRequest).values(created_at=utcnow() - timedelta(hours=25)))
    again = client.post(ASSIGN, json={**BODY, "ids": ["A1"]}, headers=key)
    assert again.status_code == 200
    assert "Idempotent-Replayed" not in again.headers
    assert again.json()["items"][0]["outcome"] == "already_assigned"
    with read_session(engine) as session:  # the other expired key is gone; "old" is new again
        kept = session.scalars(select(IdempotentRequest.key)).all()
    assert kept == ["old"]
    assert (
        client.post(ASSIGN, json={**BODY, "ids": ["A1"]}, headers=key).headers[
            "Idempotent-Replayed"
        ]
        == "true"
    )


def test_keys_are_1_to_200_characters(engine: Engine, api_as: Api) -> None:
    _setup(engine)
    client = api_as("manager")
    assert client.post(ASSIGN, json=BODY, headers={"Idempotency-Key": "x" * 201}).status_code == 422
    assert client.post(ASSIGN, json=BODY, headers={"Idempotency-Key": ""}).status_code == 422


def _race(app: FastAPI, token_headers: dict[str, str], n: int = 4) -> list[httpx.Response]:
    """``n`` identical requests with one key, sent at the same moment."""
    start = threading.Barrier(n)

    def send(_: int) -> httpx.Response:
        with TestClient(
            app, base_url="http://localhost", headers=token_headers, raise_server_exceptions=False
        ) as client:
            start.wait()
            return client.post(ASSIGN, json=BODY, headers={"Idempotency-Key": "race"})

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(send, range(n)))


def test_concurrent_duplicates_run_once(app: FastAPI, engine: Engine, api_as: Api) -> None:
    _setup(engine)
    headers = dict(api_as("manager").headers)
    responses = _race(app, {"Authorization": headers["authorization"]})
    assert [r.status_code for r in responses] == [200] * len(responses)
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert [i["outcome"] for i in bodies[0]["items"]] == ["assigned", "assigned"]
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == len(bodies) - 1
    assert _count(engine, Operation) == 1
    assert _count(engine, IdempotentRequest) == 1
    with read_session(engine) as session:
        assert chain_violations(session) == []


def test_without_the_guards_duplicates_race(
    app: FastAPI, engine: Engine, api_as: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guards' teeth: claim a key by look-up only (and, on SQLite, begin transactions
    without the write lock): two duplicates then both run, so their answers differ."""
    _setup(engine)
    headers = dict(api_as("manager").headers)
    both_looked = threading.Barrier(2)

    def look_up_only(session: Any, *, user_id: int, key: str, request_hash: str) -> bool:
        found = session.get(IdempotentRequest, (user_id, key))
        both_looked.wait(timeout=10)  # both requests pass the look-up before either commits
        return found is None

    monkeypatch.setattr(idempotency, "reserve_key", look_up_only)
    if is_sqlite(engine):
        monkeypatch.setattr(db, "_current_begin", lambda: lambda write: "BEGIN")
    responses = _race(app, {"Authorization": headers["authorization"]}, n=2)
    answers = [r.json() if r.status_code == 200 else r.status_code for r in responses]
    assert answers[0] != answers[1]  # not one operation answered twice
