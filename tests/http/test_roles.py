"""The role matrix: every route of the app, called as every kind of caller, against its role.

Everything is derived from the app's routes and ``ROUTE_ROLES``, so a route added anywhere is
checked here without touching this file, as long as its path parameters have a value below
(``PATH_VALUES``, by name or by ``collection/name``).

- A route missing from ``ROUTE_ROLES`` fails; so does a declared route the app does not serve.
- A caller below the route's role is refused: anonymous callers get a 401 problem on the API
  and a 303 to /login on pages; signed-in callers get a 403.
- A caller at or above the role is never refused: any status but 401 and 403 (and, on pages,
  a redirect to /login) counts as let in, since the request itself may be incomplete.

API routes are called with a fresh API token, pages with a fresh session cookie and its CSRF
token, so a route that signs out or revokes a token cannot spoil the calls after it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.accounts.service import declare_attribute
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.auth.service import create_token, start_session
from bookwise.db import write_session
from bookwise.http.context import CSRF_HEADER, SESSION_COOKIE
from bookwise.http.roles import RANK, ROUTE_ROLES, declare
from bookwise.importing.uploads import UploadOptions, store_upload
from bookwise.segments.service import create_segment
from bookwise.users.service import cli_user, get_user
from tests.factories import make_account, make_user
from tests.http.conftest import BASE_URL

try:  # FastAPI ≥ 0.137 keeps included routers whole in app.routes
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens them
    iter_route_contexts = None


@dataclass(frozen=True)
class Caller:
    """One kind of caller in the matrix."""

    label: str
    role: str | None  # None: anonymous
    csm_seat: bool = False

    @property
    def rank(self) -> int:
        return RANK[self.role] if self.role else 0


CALLERS = (
    Caller("anonymous", None),
    Caller("viewer", "viewer"),
    Caller("viewer with a CSM seat", "viewer", csm_seat=True),
    Caller("manager", "manager"),
    Caller("admin", "admin"),
)
NEEDED_RANK = {"public": 0, **RANK}


@dataclass(frozen=True)
class Endpoint:
    """One method of one route: what authorize looks up, and where to send the request."""

    method: str
    path: str  # the path template, as ROUTE_ROLES keys it
    url_template: str  # the path the app serves it under

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


# Reads first, deletions last: the data set then survives for as many calls as it can.
METHOD_ORDER = {"GET": 0, "HEAD": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, APIRoute) the app serves, included routers opened; reads first."""
    found: list[Endpoint] = []
    for route, served_at in _api_routes(app):
        for method in sorted(route.methods or ()):
            found.append(Endpoint(method, route.path, served_at))
    return sorted(found, key=lambda e: METHOD_ORDER.get(e.method, 1))


def _api_routes(app: FastAPI) -> Iterator[tuple[APIRoute, str]]:
    if iter_route_contexts is None:  # pragma: no cover
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route, route.path
        return
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield route, str(context.path)


# --- path parameters ---------------------------------------------------------------------------

PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass
class World:
    """The small data set the routes are called on, and a value for each path parameter."""

    values: dict[str, str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)

    def url(self, template: str) -> str:
        """The template with every parameter filled in (by ``collection/name``, then name)."""

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            before = template[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            value = self.values.get(f"{before}/{name}", self.values.get(name))
            if value is None:
                self.unknown.add(f"{template}: {{{name}}}")
                value = "1"
            return quote(value, safe="")

        return PARAMETER.sub(fill, template)


def build_world(engine: Engine) -> World:
    """Two CSMs, a parent and a child account, an operation, a segment, an attribute, a role
    and an API token: the things routes take by name or id. Callers never are their targets."""
    with write_session(engine) as session:
        robot = cli_user(session)
        target = make_user(session, "target@example.com", role="manager", seat=True)
        make_user(session, "other@example.com", role="manager", seat=True)
        parent = make_account(session, "Globex", external_id="GLOBEX", tier=1)
        child = make_account(session, "Globex France", external_id="GLOBEX-FR", parent=parent)
        operation = assign_accounts(
            session, selection=AccountRefs(["GLOBEX"]), csms=[target], actor=robot
        ).operation_id
        segment = create_segment(session, name="Tier one", rule="tier = 1", actor=robot)
        declare_attribute(session, name="plan", type="text", actor=robot)
        add_role(session, name="onboarding", actor=robot)
        token = create_token(session, user=target, name="target's script", actor=target).token
        upload = store_upload(
            session,
            stream=io.BytesIO(b"external_id,name\nX-1,Upload\n"),
            filename="accounts.csv",
            kind="accounts",
            options=UploadOptions(),
            actor=target,
        )
        values = {
            # accounts
            "ref": parent.external_id or "",
            "account_ref": parent.external_id or "",
            "account": parent.external_id or "",
            "external_id": parent.external_id or "",
            "account_id": str(parent.id),
            "accounts/id": str(parent.id),
            "parent": parent.external_id or "",
            "parent_ref": parent.external_id or "",
            "child": child.external_id or "",
            "child_ref": child.external_id or "",
            # users
            "email": target.email,
            "user_email": target.email,
            "user": target.email,
            "csm": target.email,
            "user_id": str(target.id),
            "users/id": str(target.id),
            # operations
            "operation_id": str(operation),
            "operation": str(operation),
            "operations/id": str(operation),
            # segments (also the default meaning of a bare {name})
            "segment": segment.name,
            "segment_name": segment.name,
            "segment_id": str(segment.id),
            "segments/id": str(segment.id),
            "segments/name": segment.name,
            "name": segment.name,
            # attributes, assignment roles, tokens
            "attribute": "plan",
            "attribute_name": "plan",
            "attributes/name": "plan",
            "role": "onboarding",
            "role_name": "onboarding",
            "roles/name": "onboarding",
            "token_id": str(token.id),
            "tokens/id": str(token.id),
            # a file uploaded on the import page
            "import/token": upload.token,
        }
    return World(values=values)


# --- callers -----------------------------------------------------------------------------------


@dataclass
class Credentials:
    """The users standing for each caller; each request gets a fresh token or session."""

    engine: Engine
    emails: dict[str, str]

    def headers(self, caller: Caller, endpoint: Endpoint) -> dict[str, str]:
        if caller.role is None:
            return {}
        with write_session(self.engine) as session:
            user = get_user(session, self.emails[caller.label])
            if endpoint.is_api:
                secret = create_token(session, user=user, name="matrix", actor=user).secret
                return {"Authorization": f"Bearer {secret}"}
            started = start_session(session, user=user)
        return {"Cookie": f"{SESSION_COOKIE}={started.token}", CSRF_HEADER: started.csrf_token}


def make_callers(engine: Engine) -> Credentials:
    emails: dict[str, str] = {}
    with write_session(engine) as session:
        for n, caller in enumerate(CALLERS):
            if caller.role is not None:
                email = f"caller{n}-{caller.role}@example.com"
                make_user(session, email, role=caller.role, seat=caller.csm_seat)
                emails[caller.label] = email
    return Credentials(engine, emails)


# --- the verdicts ------------------------------------------------------------------------------


def _sent_to_sign_in(status: int, location: str) -> bool:
    # A GET is sent back to its page after signing in; a form post to the start page.
    return status == 303 and (location == "/login" or location.startswith("/login?next="))


def verdict(caller: Caller, needed: str, endpoint: Endpoint, response: object) -> str | None:
    """None when the response is what the matrix expects, else what went wrong."""
    status: int = response.status_code  # type: ignore[attr-defined]
    location: str = response.headers.get("location", "")  # type: ignore[attr-defined]
    content_type: str = response.headers.get("content-type", "")  # type: ignore[attr-defined]
    if caller.rank >= NEEDED_RANK[needed]:
        # A plain 303 to /login is also how sign-out and the start page answer, so only a
        # redirect that means to come back (``next``) counts as being turned away.
        refused = status in (401, 403) or (
            not endpoint.is_api and status == 303 and location.startswith("/login?next=")
        )
        return f"refused with {status} {location}".strip() if refused else None
    if caller.role is None and endpoint.is_api:
        ok = status == 401 and content_type == "application/problem+json"
        return None if ok else f"expected a 401 problem, got {status} {content_type}"
    if caller.role is None:
        ok = _sent_to_sign_in(status, location)
        return None if ok else f"expected a 303 to /login, got {status} {location}".strip()
    return None if status == 403 else f"expected 403, got {status}"


# --- the tests ---------------------------------------------------------------------------------


def test_the_route_walk_sees_the_app(app: FastAPI) -> None:
    # A walk that finds nothing would pass every check below: pin a few routes it must find.
    found = {(e.method, e.path) for e in endpoints(app)}
    assert {("GET", "/login"), ("POST", "/login"), ("GET", "/api/v1/me")} <= found
    assert len(found) >= 5


def test_every_route_declares_its_role(app: FastAPI) -> None:
    missing = [
        f"{e.method} {e.path}" for e in endpoints(app) if (e.method, e.path) not in ROUTE_ROLES
    ]
    assert not missing, "routes without a declared role (use bookwise.http.routing):\n" + "\n".join(
        missing
    )


def test_every_declared_role_is_a_route_of_the_app(app: FastAPI) -> None:
    served = {(e.method, e.path) for e in endpoints(app)}
    stale = sorted(f"{m} {p}" for m, p in ROUTE_ROLES if (m, p) not in served)
    assert not stale, "declared in ROUTE_ROLES but not served by create_app():\n" + "\n".join(stale)


def test_every_route_is_served_where_its_role_is_declared(app: FastAPI) -> None:
    # authorize() looks roles up by the route's own path: an include prefix would hide it.
    moved = [
        f"{e.url_template} (declared as {e.path})"
        for e in endpoints(app)
        if e.url_template != e.path
    ]
    assert not moved, "\n".join(moved)


def test_every_path_parameter_gets_a_real_value(app: FastAPI, engine: Engine) -> None:
    world = build_world(engine)
    for endpoint in endpoints(app):
        world.url(endpoint.url_template)
    assert not world.unknown, (
        "path parameters with no value in tests/http/test_roles.py (add one to build_world):\n"
        + "\n".join(sorted(world.unknown))
    )


def test_the_role_matrix(app: FastAPI, engine: Engine) -> None:
    world = build_world(engine)
    credentials = make_callers(engine)
    failures: list[str] = []
    checked = 0
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        for endpoint in endpoints(app):
            needed = ROUTE_ROLES.get((endpoint.method, endpoint.path))
            if needed is None:
                failures.append(f"{endpoint.method} {endpoint.path}: no declared role")
                continue
            url = world.url(endpoint.url_template)
            for caller in CALLERS:  # lowest first: a write by an allowed caller comes last
                client.cookies.clear()
                body = {"json": {}} if endpoint.is_api else {"data": {}}
                response = client.request(
                    endpoint.method,
                    url,
                    headers=credentials.headers(caller, endpoint),
                    follow_redirects=False,
                    **(body if endpoint.method in ("POST", "PUT", "PATCH") else {}),  # type: ignore[arg-type]
                )
                checked += 1
                wrong = verdict(caller, needed, endpoint, response)
                if wrong:
                    failures.append(
                        f"{endpoint.method} {endpoint.path} (needs {needed}) as {caller.label}: "
                        f"{wrong}"
                    )
    assert checked >= len(CALLERS) * 5
    assert not failures, f"{len(failures)} of {checked} calls broke the role matrix:\n" + (
        "\n".join(failures)
    )


def test_the_verdicts_catch_a_route_that_lets_everyone_in(app: FastAPI, engine: Engine) -> None:
    # The matrix has teeth: a viewer's route that refused nobody would be reported.
    class Answer:
        def __init__(self, status: int, location: str = "") -> None:
            self.status_code = status
            self.headers = {"location": location, "content-type": "text/html"}

    page = Endpoint("POST", "/assignment/preview", "/assignment/preview")
    api = Endpoint("GET", "/api/v1/me", "/api/v1/me")
    viewer, manager, anonymous = CALLERS[1], CALLERS[3], CALLERS[0]
    assert verdict(viewer, "manager", page, Answer(200)) == "expected 403, got 200"
    assert verdict(anonymous, "viewer", page, Answer(200)) is not None
    assert verdict(anonymous, "viewer", api, Answer(401)) is not None  # not a problem+json
    assert verdict(anonymous, "viewer", page, Answer(303, "/login?next=/x")) is None
    assert verdict(manager, "manager", page, Answer(403)) == "refused with 403"
    assert verdict(manager, "manager", page, Answer(303, "/login?next=/x")) is not None
    assert verdict(manager, "manager", page, Answer(422)) is None


def test_a_route_cannot_be_declared_twice_with_two_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ROUTE_ROLES, ("GET", "/test-declared"), "viewer")
    declare("get", "/test-declared", "viewer")  # the same again is harmless
    with pytest.raises(ValueError, match="declared twice: as viewer and as public"):
        declare("GET", "/test-declared", "public")
    assert ROUTE_ROLES[("GET", "/test-declared")] == "viewer"
