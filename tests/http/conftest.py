"""The web app under test: the real app on the test's database, through httpx's TestClient.

``client`` is anonymous. ``as_role(role)`` gives a client signed in through the real /login
form (cookie + CSRF token), ``api_as(role)`` one that sends a real API token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from bookwise.auth.service import create_token, set_password
from bookwise.db import write_session
from bookwise.http.app import create_app
from bookwise.http.security import SIGNIN_COOKIE
from bookwise.users.service import build_user, cli_user, create_user

PASSWORD = "correct horse battery"
BASE_URL = "http://localhost"  # loopback: the session cookie is not Secure over plain HTTP


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    """The bookwise app on the test's database."""
    return create_app(engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous client."""
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


def make_login_user(
    engine: Engine, email: str, *, role: str = "manager", csm_seat: bool = False
) -> str:
    """A user with the test password; returns the email."""
    with write_session(engine) as session:
        user = create_user(
            session,
            data=build_user(email=email, role=role, csm_seat=csm_seat, name=email.split("@")[0]),
            actor=cli_user(session),
        )
        set_password(session, user=user, password=PASSWORD, actor=cli_user(session))
    return email


@dataclass
class SignedIn:
    """A client signed in through the login form, with its CSRF token."""

    client: TestClient
    csrf: str

    def post(self, url: str, **kwargs: object) -> object:
        """POST with the CSRF header (as the pages' JavaScript does)."""
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        headers["X-CSRF-Token"] = self.csrf
        return self.client.post(url, headers=headers, **kwargs)  # type: ignore[arg-type]


def login_form_token(client: TestClient) -> str:
    """The sign-in form's CSRF token, as GET /login puts it in the form (and in a cookie)."""
    found = re.search(r'name="signin_token" value="([^"]+)"', client.get("/login").text)
    assert found, "the sign-in form carries no token"
    return found.group(1)


def post_login(client: TestClient, data: dict[str, str], **kwargs: Any) -> Response:
    """POST /login as the sign-in form does: the form's token in the body and in its cookie.

    The cookie is sent by hand: over plain HTTP off loopback the client (as a browser) keeps
    it back, being ``Secure``, and the tests of the session cookie's attributes post there.
    """
    token = login_form_token(client)
    headers = {"Cookie": f"{SIGNIN_COOKIE}={token}"}
    return client.post("/login", data={**data, "signin_token": token}, headers=headers, **kwargs)


def sign_in(app: FastAPI, email: str, password: str = PASSWORD) -> SignedIn:
    """Sign in through POST /login and read the CSRF token from a page."""
    test_client = TestClient(app, base_url=BASE_URL)
    response = post_login(
        test_client, {"email": email, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    page = test_client.get("/login").text
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "the page carries no CSRF token"
    return SignedIn(client=test_client, csrf=found.group(1))


@pytest.fixture
def as_role(app: FastAPI, engine: Engine) -> Callable[..., SignedIn]:
    """``as_role("manager")``: a signed-in client of a new user with that role."""
    made: list[SignedIn] = []

    def make(
        role: str = "manager", *, csm_seat: bool = False, email: str | None = None
    ) -> SignedIn:
        address = email or f"{role}{len(made)}@example.com"
        make_login_user(engine, address, role=role, csm_seat=csm_seat)
        signed = sign_in(app, address)
        made.append(signed)
        return signed

    return make


@pytest.fixture
def api_as(app: FastAPI, engine: Engine) -> Callable[..., TestClient]:
    """``api_as("viewer")``: a client sending a real API token of a new user with that role."""
    count = 0

    def make(role: str = "manager", *, csm_seat: bool = False) -> TestClient:
        nonlocal count
        count += 1
        with write_session(engine) as session:
            user = create_user(
                session,
                data=build_user(
                    email=f"api-{role}{count}@example.com", role=role, csm_seat=csm_seat
                ),
                actor=cli_user(session),
            )
            secret = create_token(session, user=user, name="tests", actor=user).secret
        return TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {secret}"})

    return make
