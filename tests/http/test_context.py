"""The per-request statement time limit (http.context.reading / writing): a rule too costly
for a request answers 503 ``too-costly`` with what to do, and the app goes on serving."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import is_sqlite, read_session, write_session
from bookwise.demo import generate_demo
from bookwise.segments.rules import check_rule
from bookwise.segments.service import create_segment, get_segment
from tests.factories import actor

Api = Callable[..., TestClient]
# A viewer's rule of the kind that ran for minutes on PostgreSQL (issue 14).
COSTLY = " or ".join(f"any child (csm count = {n})" for n in range(100))


def test_a_costly_rule_is_stopped_with_a_clear_error_and_the_app_goes_on(
    app: FastAPI, engine: Engine, api_as: Api
) -> None:
    generate_demo(engine, accounts=300)
    with read_session(engine) as session:
        expected = check_rule(session, COSTLY).matches  # no limit outside requests
    viewer = api_as("viewer")
    app.state.statement_timeout_ms = 20

    costly = viewer.post("/api/v1/rules/check", json={"rule": COSTLY})

    assert costly.status_code == 503, costly.text
    assert costly.headers["content-type"].startswith("application/problem+json")
    problem = costly.json()
    assert problem["type"].endswith("/too-costly")
    assert "too costly" in problem["detail"]
    assert "20 ms" in problem["detail"]
    assert "narrow" in problem["detail"]
    for _ in range(3):  # every pooled connection is still good, and without a stale limit
        cheap = viewer.post("/api/v1/rules/check", json={"rule": "tier = 1"})
        assert cheap.status_code == 200, cheap.text
    app.state.statement_timeout_ms = 0  # 0: no limit
    unbounded = viewer.post("/api/v1/rules/check", json={"rule": COSTLY})
    assert unbounded.status_code == 200, unbounded.text
    assert unbounded.json()["matches"] == expected


def test_a_costly_segment_in_refresh_all(app: FastAPI, engine: Engine, api_as: Api) -> None:
    generate_demo(engine, accounts=300)
    with write_session(engine) as session:
        create_segment(session, name="Costly", rule=COSTLY, actor=actor(session))
        create_segment(session, name="Tier one", rule="tier = 1", actor=actor(session))
    manager = api_as("manager")
    app.state.statement_timeout_ms = 20

    response = manager.post("/api/v1/segments/refresh", json={})

    with read_session(engine) as session:
        if is_sqlite(session):
            # SQLite rolls back the whole transaction of an interrupted write: the request is
            # refused as a whole, and nothing changed.
            assert response.status_code == 503, response.text
            assert response.json()["type"].endswith("/too-costly")
            assert get_segment(session, "Tier one").refreshed_at is None
            return
        assert response.status_code == 200, response.text
        results = {item["segment"]: item for item in response.json()["items"]}
        assert results["Tier one"]["error"] is None
        assert results["Tier one"]["members"] > 0
        assert "time limit" in results["Costly"]["error"]
        assert get_segment(session, "Costly").refreshed_at is None
        assert get_segment(session, "Tier one").refreshed_at is not None
