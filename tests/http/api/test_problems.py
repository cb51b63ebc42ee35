"""Errors are application/problem+json with a stable type; nothing internal ever leaks."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from bookwise.assignments import listing
from tests.http.conftest import BASE_URL

Api = Callable[..., TestClient]
PROBLEM_KEYS = {"type", "title", "status", "detail"}


def _problem(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"https://bookwise.dev/problems/{kind}"
    return body


def test_unauthenticated_and_unknown_tokens_are_401(client: TestClient) -> None:
    _problem(client.get("/api/v1/accounts"), 401, "not-signed-in")
    response = client.get("/api/v1/accounts", headers={"Authorization": "Bearer bw_nope"})
    body = _problem(response, 401, "not-signed-in")
    assert "revoked" in str(body["detail"])
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_role_too_low_is_403(api_as: Api) -> None:
    body = _problem(api_as("viewer").post("/api/v1/segments/refresh"), 403, "forbidden")
    assert body["title"] == "Forbidden"


def test_unknown_routes_and_methods(api_as: Api) -> None:
    client = api_as("viewer")
    _problem(client.get("/api/v1/nothing-here"), 404, "http-404")
    not_allowed = client.put("/api/v1/accounts")
    _problem(not_allowed, 405, "http-405")
    assert "GET" in not_allowed.headers["allow"]


def test_malformed_requests_list_every_invalid_field(api_as: Api) -> None:
    client = api_as("manager")
    response = client.post(
        "/api/v1/assignments/assign", json={"ids": "A1", "to": "x", "dry_run": "perhaps"}
    )
    body = _problem(response, 422, "invalid-request")
    errors = body["errors"]
    assert isinstance(errors, list)
    where = {".".join(error["loc"]) for error in errors}
    assert {"body.to", "body.dry_run"} <= where
    assert "body.dry_run" in str(body["detail"])
    not_json = client.post(
        "/api/v1/assignments/assign",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    _problem(not_json, 422, "invalid-request")
    unknown_field = client.post("/api/v1/rules/check", json={"rule": "tier = 1", "x": 1})
    _problem(unknown_field, 422, "invalid-request")


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError(
            "SELECT password_hash FROM users", {}, Exception("/srv/bookwise/bookwise.db locked")
        ),
        IntegrityError("INSERT INTO accounts VALUES (1)", {}, Exception("UNIQUE failed")),
        RuntimeError('File "/srv/bookwise/app.py", line 3: secret'),
    ],
    ids=["operational", "integrity", "bug"],
)
def test_unexpected_errors_are_a_plain_500(
    app: FastAPI, api_as: Api, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    token = api_as("viewer").headers["authorization"]

    def broken(*_args: object, **_kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(listing, "list_accounts", broken)
    with TestClient(
        app, base_url=BASE_URL, headers={"Authorization": token}, raise_server_exceptions=False
    ) as client:
        response = client.get("/api/v1/accounts")
    body = _problem(response, 500, "internal-error")
    assert body["detail"] == "something went wrong on our side; nothing was changed"
    text = response.text
    for leak in ("SELECT", "INSERT", "password_hash", "/srv/", "Traceback", "secret", ".py"):
        assert leak not in text


def test_conflicts_and_refusals_are_409(api_as: Api) -> None:
    admin = api_as("admin")
    admin.post("/api/v1/users", json={"email": "ana@example.com"})
    _problem(admin.post("/api/v1/users", json={"email": "ANA@example.com"}), 409, "conflict")
    me = admin.get("/api/v1/me").json()["email"]
    _problem(admin.patch(f"/api/v1/users/{me}", json={"role": "viewer"}), 409, "refused")


def test_numbers_beyond_any_id_are_422_not_500(api_as: Api) -> None:
    client = api_as("admin")
    _problem(client.get(f"/api/v1/operations/{2**63}"), 422, "invalid-request")
    _problem(client.delete(f"/api/v1/tokens/{2**70}"), 422, "invalid-request")
    for ref in (f"#{2**70}", str(2**70), "²", "#٣", "#99999999999"):
        _problem(client.get(f"/api/v1/accounts/{quote(ref, safe='')}"), 404, "not-found")
    client.post("/api/v1/users", json={"email": "ana@example.com", "csm_seat": True})
    odd = client.post(
        "/api/v1/assignments/assign",
        json={"ids": [str(2**70), "#99999999999", "²", "#٣"], "to": ["ana@example.com"]},
    )
    assert odd.status_code == 200, odd.text
    assert {item["outcome"] for item in odd.json()["items"]} == {"not_found"}


def test_text_with_a_nul_character_is_a_422_on_both_databases(api_as: Api) -> None:
    client = api_as("manager")
    body = _problem(
        client.get("/api/v1/accounts", params={"segment": "a\x00b"}), 422, "invalid-input"
    )
    assert "query parameter segment" in str(body["detail"])
    _problem(client.get("/api/v1/segments/a%00b"), 422, "invalid-input")
    bad_json = client.post(
        "/api/v1/assignments/unassign", json={"from": "a@example.com", "segment": "x\x00"}
    )
    _problem(bad_json, 422, "invalid-input")
    nested = client.post("/api/v1/rules/check", json={"rule": {"kind": "x", "field": ["\x00"]}})
    _problem(nested, 422, "invalid-input")
    form = client.post(
        "/api/v1/import/accounts",
        files={"file": ("a.csv", b"name\nx\n", "text/csv")},
        data={"encoding": "utf\x008"},
    )
    _problem(form, 422, "invalid-input")
    escaped = client.post("/api/v1/rules/check", json={"rule": 'name = "\\\\u0000"'})
    assert escaped.status_code == 200  # a backslash and "u0000" are ordinary text
