"""Sign-in, sessions, tokens and CSRF through the real app."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select

from bookwise.auth.service import MAX_FAILURES
from bookwise.db import read_session
from bookwise.http.context import SESSION_COOKIE
from bookwise.http.security import SIGNIN_COOKIE
from bookwise.models import WebSession
from tests.http.conftest import (
    BASE_URL,
    PASSWORD,
    SignedIn,
    login_form_token,
    make_login_user,
    post_login,
    sign_in,
)


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
    response = post_login(client, {"email": "ana@example.com", "password": "nope"})
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
        response = post_login(client, {"email": email, "password": "guess"})
        assert response.status_code == 401
        assert "wrong email or password" in response.text
    assert post_login(client, {"email": email, "password": "guess"}).status_code == 429


# --- login CSRF: only bookwise's own form signs a browser in ----------------------------------


def _sessions(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(WebSession)) or 0)


def _set_cookies(response: Response) -> str:
    return " ".join(response.headers.get_list("set-cookie"))


def test_the_sign_in_form_works_as_a_browser_uses_it(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ana@example.com")
    browser = TestClient(app, base_url=BASE_URL)
    form = browser.get("/login")
    cookie = next(c for c in form.headers.get_list("set-cookie") if c.startswith(SIGNIN_COOKIE))
    assert re.search(r"httponly", cookie, re.IGNORECASE)
    assert re.search(r"samesite=strict", cookie, re.IGNORECASE)
    assert re.search(r"path=/login", cookie, re.IGNORECASE)
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token
    data = {"email": "ana@example.com", "password": PASSWORD, "signin_token": token.group(1)}
    done = browser.post("/login", data=data, follow_redirects=False)
    assert done.status_code == 303
    assert SESSION_COOKIE in _set_cookies(done)
    assert browser.get("/api/v1/me").json()["email"] == "ana@example.com"


@pytest.mark.parametrize("token", ["", "forged", "attacker"])
def test_a_sign_in_without_the_forms_own_token_is_refused(
    app: FastAPI, engine: Engine, token: str
) -> None:
    """Login CSRF: another site's page posts the attacker's credentials from the victim's
    browser. The browser has its own form token (or none); the post cannot carry it."""
    make_login_user(engine, "mallory@example.com")
    victim = TestClient(app, base_url=BASE_URL)
    login_form_token(victim)  # the victim once opened the sign-in page
    if token == "attacker":  # the attacker's own, real token, from their own visit
        token = login_form_token(TestClient(app, base_url=BASE_URL))
    data = {"email": "mallory@example.com", "password": PASSWORD, "signin_token": token}
    headers = {"Origin": "https://evil.example"}
    refused = victim.post("/login", data=data, headers=headers, follow_redirects=False)
    assert refused.status_code == 403
    assert "did not come from bookwise" in refused.text
    assert SESSION_COOKIE not in _set_cookies(refused)
    assert _sessions(engine) == 0
    assert victim.get("/api/v1/me").status_code == 401
    # The page it shows is a working form again (a fresh token for an honest retry).
    again = post_login(
        victim, {"email": "mallory@example.com", "password": PASSWORD}, follow_redirects=False
    )
    assert again.status_code == 303


def test_a_sign_in_the_browser_says_came_from_another_site_is_refused(
    app: FastAPI, engine: Engine
) -> None:
    make_login_user(engine, "mallory@example.com")
    browser = TestClient(app, base_url=BASE_URL)
    token = login_form_token(browser)
    data = {"email": "mallory@example.com", "password": PASSWORD, "signin_token": token}
    for site in ("cross-site", "same-site"):
        refused = browser.post(
            "/login", data=data, headers={"Sec-Fetch-Site": site}, follow_redirects=False
        )
        assert refused.status_code == 403, site
        assert SESSION_COOKIE not in _set_cookies(refused)
    assert _sessions(engine) == 0
    same = browser.post(
        "/login", data=data, headers={"Sec-Fetch-Site": "same-origin"}, follow_redirects=False
    )
    assert same.status_code == 303
