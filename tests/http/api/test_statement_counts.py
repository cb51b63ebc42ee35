"""The API's listings and changes are a fixed number of statements, whatever the accounts."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import write_session
from tests.factories import make_family_tree, make_user
from tests.helpers import count_statements

Api = Callable[..., TestClient]


def _counts(engine: Engine, client: TestClient, *, parent: str, key: str) -> list[int]:
    calls: list[tuple[str, str, dict[str, object]]] = [
        ("GET", "/api/v1/accounts", {"params": {"filter": "mrr > 0", "sort": "-mrr"}}),
        ("GET", f"/api/v1/accounts/{parent}", {}),
        ("GET", "/api/v1/csms", {}),
        ("GET", "/api/v1/export/accounts", {}),
        ("POST", "/api/v1/rules/check", {"json": {"rule": "any child (depth = 1)"}}),
        ("GET", "/api/v1/segments/Children", {}),
        ("GET", "/api/v1/segments/Children/members", {"params": {"sort": "-mrr"}}),
        (
            "POST",
            "/api/v1/assignments/assign",
            {
                "json": {"filter": "company level is 1", "to": ["ana@example.com"]},
                "headers": {"Idempotency-Key": key},
            },
        ),
    ]
    counts = []
    for method, url, options in calls:
        with count_statements(engine) as log:
            response = client.request(method, url, **options)  # type: ignore[arg-type]
        assert response.status_code == 200, (url, response.text)
        counts.append(len(log.statements))
    return counts


def test_statement_counts_do_not_grow_with_the_accounts(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_family_tree(session, parents=2, children_each=5, prefix="S")
    client = api_as("manager")
    segment = {"name": "Children", "rule": "company level is 0"}
    assert client.post("/api/v1/segments", json=segment).status_code == 201
    small = _counts(engine, client, parent="SP0", key="small")
    with write_session(engine) as session:
        make_family_tree(session, parents=20, children_each=50, prefix="L")
    large = _counts(engine, client, parent="LP0", key="large")
    assert small == large
