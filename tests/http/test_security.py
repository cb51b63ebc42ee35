"""Security of the web app: headers, the session cookie, the sign-in limit, credentials that
die at once, errors that leak nothing, and no open redirect."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from bookwise.auth.service import MAX_FAILURES, revoke_token
from bookwise.config import get_settings
from bookwise.db import read_session, write_session
from bookwise.http.app import create_app
from bookwise.http.context import SESSION_COOKIE
from bookwise.http.roles import ROUTE_ROLES
from bookwise.http.security import HEADERS
from bookwise.models import ApiToken, WebSession
from bookwise.users.service import cli_user, get_user, set_active
from tests.http.conftest import (
    BASE_URL,
    PASSWORD,
    SignedIn,
    make_login_user,
    post_login,
    sign_in,
)

# --- security headers --------------------------------------------------------------------------


def _assert_secure_headers(response: object, *, cacheable: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in HEADERS.items():
        assert headers.get(name) == value, (name, response)
    csp = headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    if not cacheable:
        assert headers.get("cache-control") == "no-store"


@pytest.fixture
def boom_app(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """A fresh app with two test-only routes that fail with a message full of secrets."""
    app = create_app(engine)

    def boom() -> None:
        raise OperationalError(
            "SELECT password_hash FROM users WHERE email = 'ana@example.com'",
            {},
            Exception("disk I/O error in /srv/bookwise/secret-path/bookwise.db"),
        )

    for path in ("/api/v1/test-boom", "/test-boom"):
        app.add_api_route(path, boom, methods=["GET"])
        monkeypatch.setitem(ROUTE_ROLES, ("GET", path), "public")
    return app


LEAKS = re.compile(
    r"Traceback|SELECT|password_hash|secret-path|/srv/|\.py\b|OperationalError|sqlalchemy|"
    r"File \"",
)


def test_every_kind_of_response_has_the_security_headers(boom_app: FastAPI, api_as: object) -> None:
    client = TestClient(boom_app, base_url=BASE_URL)
    token_client = api_as("viewer")  # type: ignore[operator]
    responses = {
        "page": client.get("/login"),
        "redirect": client.get("/", follow_redirects=False),
        "api": token_client.get("/api/v1/me"),
        "problem 401": client.get("/api/v1/me"),
        "page 401 redirect": client.get("/assignment", follow_redirects=False),
        "api 404": client.get("/api/v1/no-such-thing"),
        "page 404": client.get("/no-such-page"),
        "405": client.delete("/login"),
        "422": client.post("/login", data={}),
        "api 500": client.get("/api/v1/test-boom"),
        "page 500": client.get("/test-boom"),
    }
    expected = {
        "page": 200,
        "redirect": 303,
        "api": 200,
        "problem 401": 401,
        "page 401 redirect": 303,
        "api 404": 404,
        "page 404": 404,
        "405": 405,
        "422": 422,
        "api 500": 500,
        "page 500": 500,
    }
    for kind, response in responses.items():
        assert response.status_code == expected[kind], kind
        _assert_secure_headers(response)
    static = client.get("/static/app.css")
    assert static.status_code == 200
    _assert_secure_headers(static, cacheable=True)
    static_404 = client.get("/static/no-such-file.css")
    assert static_404.status_code == 404
    _assert_secure_headers(static_404, cacheable=True)


def test_https_responses_ask_for_https_from_then_on(app: FastAPI) -> None:
    secure = TestClient(app, base_url="https://bookwise.example").get("/login")
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    plain = TestClient(app, base_url=BASE_URL).get("/login")
    assert "strict-transport-security" not in plain.headers


def test_no_page_template_holds_inline_script_or_style(client: TestClient) -> None:
    page = client.get("/login").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline <script>"
    assert "<style" not in page
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
    assert not re.search(r"\sstyle\s*=", page), "inline style attribute"


# --- the session cookie ------------------------------------------------------------------------


def _session_cookie(app: FastAPI, base_url: str, email: str) -> str:
    response = post_login(
        TestClient(app, base_url=base_url),
        {"email": email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    assert len(cookies) == 1
    return cookies[0]


def _attributes(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


@pytest.fixture
def cookie_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change BOOKWISE_COOKIE_SECURE for one test (settings are cached per process)."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_session_cookie_is_httponly_and_samesite_lax(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ana@example.com")
    cookie = _session_cookie(app, BASE_URL, "ana@example.com")
    assert {"httponly", "samesite", "path", "max-age"} <= _attributes(cookie)
    assert re.search(r";\s*samesite=lax", cookie, re.IGNORECASE)
    assert "secure" not in _attributes(cookie)  # plain HTTP on loopback: the demo


@pytest.mark.parametrize(
    "base_url", ["https://bookwise.example", "http://bookwise.example", "https://localhost"]
)
def test_the_session_cookie_is_secure_off_loopback_or_over_https(
    app: FastAPI, engine: Engine, base_url: str
) -> None:
    make_login_user(engine, "ana@example.com")
    cookie = _session_cookie(app, base_url, "ana@example.com")
    assert {"secure", "httponly", "samesite"} <= _attributes(cookie)


def test_bookwise_cookie_secure_forces_either_way(
    app: FastAPI, engine: Engine, cookie_setting: pytest.MonkeyPatch
) -> None:
    make_login_user(engine, "ana@example.com")
    cookie_setting.setenv("BOOKWISE_COOKIE_SECURE", "true")
    get_settings.cache_clear()
    assert "secure" in _attributes(_session_cookie(app, BASE_URL, "ana@example.com"))
    cookie_setting.setenv("BOOKWISE_COOKIE_SECURE", "false")
    get_settings.cache_clear()
    off = _session_cookie(app, "http://bookwise.example", "ana@example.com")
    assert "secure" not in _attributes(off)
    assert "httponly" in _attributes(off)


# --- the sign-in limit -------------------------------------------------------------------------


def _login(app: FastAPI, email: str, password: str, address: str) -> int:
    client = TestClient(app, base_url=BASE_URL, client=(address, 50000))
    data = {"email": email, "password": password}
    return post_login(client, data, follow_redirects=False).status_code


def test_ten_failures_for_one_email_lock_it_from_every_address(
    app: FastAPI, engine: Engine
) -> None:
    make_login_user(engine, "ana@example.com")
    for n in range(MAX_FAILURES):
        assert _login(app, "ana@example.com", "wrong password", f"10.0.0.{n}") == 401
    # Locked: even the right password is refused, from any address, and says why.
    assert _login(app, "ana@example.com", PASSWORD, "10.9.9.9") == 429
    client = TestClient(app, base_url=BASE_URL, client=("10.9.9.8", 50000))
    refused = post_login(client, {"email": "ANA@example.com", "password": PASSWORD})
    assert refused.status_code == 429
    assert "too many failed sign-ins; try again in 15 minutes" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    make_login_user(engine, "ben@example.com")
    assert _login(app, "ben@example.com", PASSWORD, "10.9.9.9") == 303  # others are not locked


def test_ten_failures_from_one_address_lock_it_for_every_email(
    app: FastAPI, engine: Engine
) -> None:
    make_login_user(engine, "ana@example.com")
    for n in range(MAX_FAILURES):
        assert _login(app, f"guess{n}@example.com", "wrong password", "192.0.2.1") == 401
    assert _login(app, "ana@example.com", PASSWORD, "192.0.2.1") == 429
    assert _login(app, "ana@example.com", PASSWORD, "192.0.2.2") == 303


# --- credentials that die at once --------------------------------------------------------------


def test_a_deactivated_users_session_and_tokens_die_at_once(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ana@example.com")
    signed = sign_in(app, "ana@example.com")
    created = signed.post("/api/v1/tokens", json={"name": "script"})
    secret = created.json()["token"]  # type: ignore[attr-defined]
    script = TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {secret}"})
    assert signed.client.get("/api/v1/me").status_code == 200
    assert script.get("/api/v1/me").status_code == 200

    with write_session(engine) as session:
        set_active(
            session,
            user=get_user(session, "ana@example.com"),
            active=False,
            actor=cli_user(session),
        )

    assert signed.client.get("/api/v1/me").status_code == 401
    page = signed.client.get("/assignment", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    denied = script.get("/api/v1/me")
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"].startswith("Bearer")
    assert _login(app, "ana@example.com", PASSWORD, "10.1.1.1") == 401


def test_a_revoked_token_dies_at_once(app: FastAPI, engine: Engine, api_as: object) -> None:
    script = api_as("manager")  # type: ignore[operator]
    assert script.get("/api/v1/me").status_code == 200
    with write_session(engine) as session:
        token_id = session.scalar(select(func.max(ApiToken.id)))
        assert token_id is not None
        revoke_token(session, token_id=token_id, actor=cli_user(session))
    response = script.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["type"].endswith("/not-signed-in")


def test_logout_ends_the_session_on_the_server(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ana@example.com")
    signed: SignedIn = sign_in(app, "ana@example.com")
    old_cookie = signed.client.cookies[SESSION_COOKIE]
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1

    out = signed.client.post("/logout", data={"csrf_token": signed.csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"

    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
    # Someone who kept a copy of the cookie gets nothing with it.
    replay = TestClient(app, base_url=BASE_URL, cookies={SESSION_COOKIE: old_cookie})
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get("/assignment", follow_redirects=False).status_code == 303


def test_logout_needs_the_csrf_token(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ana@example.com")
    signed = sign_in(app, "ana@example.com")
    forged = signed.client.post("/logout", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert signed.client.get("/api/v1/me").status_code == 200


# --- errors leak nothing -----------------------------------------------------------------------


def test_an_internal_error_is_logged_but_never_shown(
    boom_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(boom_app, base_url=BASE_URL)  # raises if the error escaped the app
    with caplog.at_level(logging.ERROR, logger="bookwise.http"):
        api = client.get("/api/v1/test-boom")
        page = client.get("/test-boom")
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json() == {
        "type": "https://bookwise.dev/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "something went wrong on our side; nothing was changed",
    }
    assert page.status_code == 500
    assert "text/html" in page.headers["content-type"]
    assert "Internal error" in page.text
    for response in (api, page):
        assert not LEAKS.search(response.text), response.text
    assert "unexpected error on GET /api/v1/test-boom" in caplog.text
    assert "password_hash" in caplog.text  # the trace is in the log, for the operator


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing",
        "/no-such-page",
        "/api/v1/accounts/..%2F..%2Fetc%2Fpasswd/nothing",
        "/static/../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
    ],
)
def test_unknown_routes_say_not_found_and_nothing_else(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (401, 303, 404), response.status_code
    assert not LEAKS.search(response.text), response.text
    assert "[tool.ruff]" not in response.text  # no file served from outside /static


def test_api_404_is_a_bare_problem(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.headers["content-type"] == "application/problem+json"
    assert set(response.json()) == {"type", "title", "status", "detail"}


def test_a_405_says_which_methods_are_allowed(client: TestClient) -> None:
    response = client.delete("/login")
    assert response.status_code == 405
    assert response.headers["allow"]


def test_a_form_sent_after_the_session_ended_goes_to_sign_in(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(engine)

    def form() -> None:
        raise AssertionError("never reached without a session")  # pragma: no cover

    app.add_api_route("/test-form", form, methods=["POST"])
    monkeypatch.setitem(ROUTE_ROLES, ("POST", "/test-form"), "viewer")
    response = TestClient(app, base_url=BASE_URL).post("/test-form", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"  # not back to a POST-only address


# --- open redirects ----------------------------------------------------------------------------

EVIL_TARGETS = [
    "//evil.example",
    "//evil.example/assignment",
    "https://evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    " //evil.example",
]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_sign_in_never_redirects_to_another_site(app: FastAPI, engine: Engine, target: str) -> None:
    make_login_user(engine, "ana@example.com")
    client = TestClient(app, base_url=BASE_URL)
    form = client.get("/login", params={"next": target})
    assert form.status_code == 200
    assert not re.search(r'name="next" value="(//|https?:|javascript:)', form.text)
    done = post_login(
        client,
        {"email": "ana@example.com", "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert done.status_code == 303
    location = done.headers["location"]
    # What a browser would make of it: backslashes read as slashes, tabs and newlines dropped.
    as_browser_reads_it = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    assert as_browser_reads_it.startswith("/")
    assert not as_browser_reads_it.startswith("//")


def test_sign_in_goes_back_to_the_page_asked_for(app: FastAPI, engine: Engine) -> None:
    make_login_user(engine, "ana@example.com")
    client = TestClient(app, base_url=BASE_URL)
    asked = client.get("/operations?limit=5&offset=10", follow_redirects=False)
    assert asked.status_code == 303
    target = asked.headers["location"]
    assert target == "/login?next=/operations%3Flimit%3D5%26offset%3D10"
    next_value = client.get(target).text
    assert 'value="/operations?limit=5&amp;offset=10"' in next_value
    done = post_login(
        client,
        {
            "email": "ana@example.com",
            "password": PASSWORD,
            "next": "/operations?limit=5&offset=10",
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/operations?limit=5&offset=10"
