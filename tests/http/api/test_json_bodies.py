"""A JSON body must be an object: ``null``, ``[]``, ``"x"`` or ``1`` is a 422 on every route.

Optional bodies (``body: X | None = None``) used to read such a body as "no body": ``null``
sent to ``POST /operations/{id}/undo`` undid the operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import read_session, write_session
from tests.factories import make_account, make_user
from tests.helpers import ownership_snapshot

Api = Callable[..., TestClient]
NOT_OBJECTS = ["null", "[]", '"x"', "1", "true"]
WRITE_METHODS = {"post", "patch", "put", "delete"}


def _snapshot(engine: Engine) -> dict[int, frozenset[tuple[int, str]]]:
    with read_session(engine) as session:
        return ownership_snapshot(session)


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_undo_refuses_a_body_that_is_not_an_object(engine: Engine, api_as: Api, body: str) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_account(session, external_id="A1")
    manager = api_as("manager")
    assign = manager.post(
        "/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana@example.com"]}
    ).json()
    before = _snapshot(engine)
    response = manager.post(
        f"/api/v1/operations/{assign['operation_id']}/undo",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "JSON object" in response.json()["detail"]
    assert _snapshot(engine) == before  # nothing was undone
    # No body at all is still the defaults, and an empty object too.
    dry = manager.post(f"/api/v1/operations/{assign['operation_id']}/undo", json={"dry_run": True})
    assert dry.status_code == 200, dry.text


def _path_values(engine: Engine, admin: TestClient) -> dict[str, str]:
    """Something real behind every path parameter, so that no route answers 404 first."""
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_account(session, external_id="A1")
    token = admin.post("/api/v1/tokens", json={"name": "spare"})
    assert token.status_code in (200, 201), token.text
    segment = admin.post("/api/v1/segments", json={"name": "big", "rule": "mrr > 0"})
    assert segment.status_code in (200, 201), segment.text
    assign = admin.post(
        "/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana@example.com"]}
    )
    assert assign.status_code == 200, assign.text
    return {
        "token_id": str(token.json()["id"]),
        "email": "ana@example.com",
        "name": "big",
        "operation_id": str(assign.json()["operation_id"]),
        "ref": "A1",
    }


def test_every_write_route_refuses_a_json_body_that_is_not_an_object(
    engine: Engine, client: TestClient, api_as: Api
) -> None:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    admin = api_as("admin")
    values = _path_values(engine, admin)
    before = _snapshot(engine)
    answered: dict[tuple[str, str, str], int] = {}
    for path, item in document["paths"].items():
        for method, _ in item.items():
            if method not in WRITE_METHODS:
                continue
            url = path.format(**values)
            for body in NOT_OBJECTS:
                response = admin.request(
                    method.upper(),
                    url,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                answered[(method.upper(), path, body)] = response.status_code
    accepted = {key: status for key, status in answered.items() if status != 422}
    assert not accepted, "\n".join(f"{key}: {status}" for key, status in sorted(accepted.items()))
    assert _snapshot(engine) == before
