"""Sign-in, sessions, tokens and CSRF through the real app."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.auth.service import MAX_FAILURES
from tests.http.conftest import SignedIn, make_login_user, sign_in


def test_anonymous_api_call_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-signed-in")


def test_signed_in_session_sees_itself(as_role: Callable[..., SignedIn]) -> None:
    signed = as_role("viewer")
    assert signed.client.get("/api/v1/me").json()["role"] == "viewer"


def test_wrong_password_is_refused(app: FastAPI, engine: Engine, client: TestClient) -> None:
    make_login_user(engine, "ana@example.com")
    response = client.post("/login", data={"email": "ana@example.com", "password": "nope"})
    assert response.status_code == 401
    assert "wrong email or password" in response.text


def test_session_post_without_csrf_token_is_refused(as_role: Callable[..., SignedIn]) -> None:
    signed = as_role("manager")
    response = signed.client.post("/api/v1/tokens", json={"name": "x"})
    assert response.status_code == 403
    assert response.json()["type"].endswith("/csrf-failed")
    assert signed.post("/api/v1/tokens", json={"name": "x"}).status_code == 201  # type: ignore[attr-defined]


def test_token_works_until_revoked(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ben@example.com")
    signed = sign_in(app, "ben@example.com")
    created = signed.post("/api/v1/tokens", json={"name": "script"}).json()  # type: ignore[attr-defined]
    script = TestClient(app, base_url="http://localhost")
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert script.get("/api/v1/me", headers=bearer).status_code == 200
    signed.client.delete(f"/api/v1/tokens/{created['id']}", headers={"X-CSRF-Token": signed.csrf})
    assert script.get("/api/v1/me", headers=bearer).status_code == 401


def test_an_overlong_email_is_a_plain_refusal_not_a_500(app: FastAPI, client: TestClient) -> None:
    """On PostgreSQL such an email did not fit the failures table: a 500, never counted."""
    email = "a" * 400 + "@example.com"
    for _ in range(MAX_FAILURES):
        response = client.post("/login", data={"email": email, "password": "guess"})
        assert response.status_code == 401
        assert "wrong email or password" in response.text
    assert client.post("/login", data={"email": email, "password": "guess"}).status_code == 429
