"""One database session per GET request: the caller is looked up in the session the route
then reads in (``http.context.reading``); a route that does not read, or a refused caller,
still has that session ended. Counted as connections taken from the pool."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.http import context
from tests.factories import actor, make_account, make_user
from tests.helpers import count_statements
from tests.http.conftest import BASE_URL

Api = Callable[..., TestClient]


@contextmanager
def checkouts(engine: Engine) -> Iterator[list[int]]:
    """How many connections the block takes from the pool and how many it gives back."""
    counted = [0, 0]

    def out(*_: Any) -> None:
        counted[0] += 1

    def back(*_: Any) -> None:
        counted[1] += 1

    event.listen(engine, "checkout", out)
    event.listen(engine, "checkin", back)
    try:
        yield counted
    finally:
        event.remove(engine, "checkout", out)
        event.remove(engine, "checkin", back)


def test_a_page_read_is_one_session_from_the_caller_to_its_rows(
    engine: Engine, api_as: Api
) -> None:
    with write_session(engine) as session:
        make_user(session, "ana-one@example.com")
        make_account(session, "one session", external_id="OS1")
    client = api_as("viewer")
    params = {"assigned_to": "ana-one@example.com"}
    client.get("/api/v1/accounts", params=params)  # warm
    with checkouts(engine) as counted, count_statements(engine) as log:
        response = client.get("/api/v1/accounts", params=params)
    assert response.status_code == 200, response.text
    # One connection: token, users with counters, (no rows: no owners); one transaction.
    assert counted == [1, 1], log.statements
    assert sum(s.upper().startswith(("BEGIN", "SET LOCAL")) for s in log.statements) <= 1


def test_a_kept_session_is_ended_when_the_route_reads_nothing_or_the_caller_is_refused(
    engine: Engine, api_as: Api, client: TestClient
) -> None:
    api = api_as("viewer")
    with checkouts(engine) as counted:
        assert api.get("/api/v1/me").status_code == 200  # reads nothing of its own
        assert api.get("/api/v1/users").status_code in (200, 403)
        bad = client.get("/api/v1/accounts", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    assert counted[0] == counted[1]  # every connection taken was given back


def test_a_write_request_ends_its_look_up_before_its_body_is_read(
    engine: Engine, api_as: Api
) -> None:
    api = api_as("manager")
    with checkouts(engine) as counted:
        response = api.post("/api/v1/rules/check", json={"rule": "tier = 1"})
    assert response.status_code == 200, response.text
    assert counted == [2, 2]  # the look-up's, then the route's own


def test_a_page_whose_look_up_failed_gives_every_session_back(
    app: FastAPI, engine: Engine, api_as: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transient database error in the caller's look-up is a 500; the error page looks
    the caller up again (for the navigation) and ends that session itself: nothing is left
    kept after BodyLimit has finished with the request."""
    token = api_as("viewer").headers["Authorization"]
    real = context.token_user
    failures = [OperationalError("SELECT …", {}, Exception("the server closed the connection"))]

    def flaky(session: Any, secret: str) -> Any:
        if failures:
            raise failures.pop()
        return real(session, secret)

    monkeypatch.setattr(context, "token_user", flaky)
    headers = {"Authorization": token}
    with (
        TestClient(app, base_url=BASE_URL, headers=headers, raise_server_exceptions=False) as web,
        checkouts(engine) as counted,
    ):
        response = web.get("/accounts")
    assert response.status_code == 500
    assert failures == []
    assert counted[0] == 2  # the failed look-up's, the error page's
    assert counted[0] == counted[1]  # every connection taken was given back


@contextmanager
def most_at_once(engine: Engine) -> Iterator[list[int]]:
    """The most connections the block held from the pool at one time (``[0]``)."""
    held, most = [0], [0]

    def out(*_: Any) -> None:
        held[0] += 1
        most[0] = max(most[0], held[0])

    def back(*_: Any) -> None:
        held[0] -= 1

    event.listen(engine, "checkout", out)
    event.listen(engine, "checkin", back)
    try:
        yield most
    finally:
        event.remove(engine, "checkout", out)
        event.remove(engine, "checkin", back)


@pytest.mark.parametrize(
    "path",
    [
        "/preview/default-policy?policy=own",
        "/preview/policies?policy=own&scope=all",
        "/accounts/PV1/policy?policy=own",
        "/accounts/PV1/parent?parent=PV0",
        "/users/deactivate?email=leaving-pv@example.com&transfer_to=staying-pv@example.com",
    ],
)
def test_a_preview_page_holds_one_connection_at_a_time(
    engine: Engine, api_as: Api, path: str
) -> None:
    """A GET preview runs its dry run in a write transaction: the look-up's kept read session
    is ended before it, not left open beside it."""
    with write_session(engine) as session:
        leaving = make_user(session, "leaving-pv@example.com", name="Leaving")
        make_user(session, "staying-pv@example.com", name="Staying")
        make_account(session, "Preview parent", external_id="PV0")
        make_account(session, "Preview child", external_id="PV1")
        assign_accounts(
            session, selection=AccountRefs(["PV1"]), csms=[leaving], actor=actor(session)
        )
    admin = api_as("admin")
    with most_at_once(engine) as most:
        response = admin.get(path)
    assert response.status_code == 200, response.text
    # The preview itself, not a page saying why not.
    assert re.search(r"<h1[^>]*>\s*Preview: ", response.text), response.text
    assert most == [1]
