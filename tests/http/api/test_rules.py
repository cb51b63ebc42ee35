"""POST /rules/check (as the web page's rule boxes call it) and GET /rules/fields."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import write_session
from tests.factories import make_account

Api = Callable[..., TestClient]


def _accounts(engine: Engine) -> None:
    with write_session(engine) as session:
        for n, tier in enumerate([1, 1, 2, 1]):
            make_account(session, f"Account {n}", external_id=f"S{n}", tier=tier)


def test_rules_check_as_the_web_page_calls_it(engine: Engine, api_as: Api) -> None:
    _accounts(engine)
    viewer = api_as("viewer")
    ok = viewer.post("/api/v1/rules/check", json={"rule": "tier=1"})
    assert ok.status_code == 200
    body = ok.json()
    assert body["text"] == "tier = 1"
    assert body["matches"] == 3
    assert body["english"]
    assert body["rule"]["kind"] == "condition"
    same = viewer.post("/api/v1/rules/check", json={"rule": body["rule"]}).json()
    assert same == body
    bad = viewer.post("/api/v1/rules/check", json={"rule": "tier = 1 and (region"})
    assert bad.status_code == 422
    problem = bad.json()
    assert problem["type"].endswith("/invalid-rule")
    assert isinstance(problem["position"], int)
    assert problem["reason"]


def test_rules_check_from_a_browser_session_needs_the_csrf_token(
    as_role: Callable[..., object],
) -> None:
    signed = as_role("viewer")
    bare = signed.client.post("/api/v1/rules/check", json={"rule": "tier = 1"})  # type: ignore[attr-defined]
    assert bare.status_code == 403
    with_token = signed.post("/api/v1/rules/check", json={"rule": "tier = 1"})  # type: ignore[attr-defined]
    assert with_token.status_code == 200


def test_rule_fields_include_custom_attributes_and_roles(engine: Engine, api_as: Api) -> None:
    body = api_as("viewer").get("/api/v1/rules/fields").json()
    fields = {f["field"]: f for f in body["items"]}
    assert body["total"] == len(body["items"])
    assert "health_score" in fields
    assert "csm" in fields
    assert "between" in body["operators"]
