"""Every page for every role: who sees it, who sees write controls, who may post; CSRF; CSP."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.assignments.history import list_operations
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.http.roles import ROUTE_ROLES
from bookwise.segments.service import create_segment
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

CSM = "kim@example.com"


def make_world(engine: Engine) -> int:
    """A CSM who owns a parent and its child, an unowned account, a segment; its id."""
    with write_session(engine) as session:
        kim = make_user(session, CSM, name="Kim")
        parent = make_account(session, "Parent", external_id="PARENT", mrr=2000)
        make_account(session, "Child", external_id="CHILD", parent=parent)
        make_account(session, "Alone", external_id="ALONE")
        assign_accounts(
            session,
            selection=AccountRefs(["PARENT", "CHILD"]),
            csms=[kim],
            actor=actor(session),
        )
        return create_segment(session, name="Big", rule="mrr > 1000", actor=actor(session)).id


def pages(segment_id: int) -> list[str]:
    """Every page a viewer may open."""
    return [
        "/assignment",
        f"/assignment?rep={CSM}",
        f"/assignment?rep={CSM}&who=others",
        f"/assignment?rep={CSM}&who=all&where=mrr+%3E+1",
        "/accounts",
        "/accounts/PARENT",
        "/accounts/CHILD",
        "/segments",
        f"/segments/{segment_id}",
        "/operations",
        "/my-book",
    ]


MANAGER_PAGES = ["/segments/new", "/segments/{id}/edit"]


@pytest.mark.parametrize("role", ["viewer", "manager", "admin"])
def test_each_page_renders_for_each_role(
    as_role: Callable[..., SignedIn], engine: Engine, role: str
) -> None:
    segment_id = make_world(engine)
    signed = as_role(role)
    for url in pages(segment_id):
        response = signed.client.get(url)
        assert response.status_code == 200, (url, response.text[:500])
    expected = 200 if role in {"manager", "admin"} else 403
    for url in MANAGER_PAGES:
        assert signed.client.get(url.format(id=segment_id)).status_code == expected, url
    assert signed.client.get("/users").status_code == (200 if role == "admin" else 403)


def test_no_inline_script_or_style_on_any_page(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    segment_id = make_world(engine)
    admin = as_role("admin")
    urls = [*pages(segment_id), "/users", "/segments/new", f"/segments/{segment_id}/edit"]
    for url in urls:
        html = admin.client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\sstyle\s*=", html), url
        assert not re.search(r"\son[a-z]+\s*=", html), url
        assert not re.search(r"""(src|href|action)=["'](https?:)?//""", html), url  # offline


def test_every_control_has_a_label(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    segment_id = make_world(engine)
    admin = as_role("admin")
    for url in [*pages(segment_id), "/users", "/segments/new"]:
        page = Page.of(admin.client.get(url))
        labelled = {label.attrs.get("for") for label in page.root.find_all("label")}
        wrapped = {
            id(control)
            for label in page.root.find_all("label")
            for control in label.iter()
            if control.tag in {"input", "select", "textarea"}
        }
        for control in page.root.iter():
            if control.tag not in {"input", "select", "textarea"}:
                continue
            if control.attrs.get("type") == "hidden":
                continue
            named = (
                control.attrs.get("id") in labelled
                or id(control) in wrapped
                or control.attrs.get("aria-label")
            )
            assert named, (url, control.attrs)


def write_controls(page: Page) -> list[str]:
    """Forms that post (sign-out aside), row checkboxes and buttons that open pop-ups."""
    posting = page.root.find_all("form", method="post")
    found = [f.attrs["action"] for f in posting if f.attrs["action"] != "/logout"]
    found += page.values("refs")
    found += [b.text() for b in page.root.find_all("button", data_open_dialog="assign-reps")]
    links = {"Edit", "New segment", "Undo…"}
    found += [a.text() for a in page.root.find_all("a") if a.text() in links]
    return found


@pytest.mark.parametrize("seat", [False, True])
def test_read_only_users_see_no_write_controls(
    as_role: Callable[..., SignedIn], engine: Engine, seat: bool
) -> None:
    segment_id = make_world(engine)
    viewer = as_role("viewer", csm_seat=seat)
    for url in pages(segment_id):
        page = Page.of(viewer.client.get(url))
        assert write_controls(page) == [], url
    manager = as_role("manager")
    seen = Page.of(manager.client.get(f"/assignment?rep={CSM}"))
    assert "/assignment/preview" in write_controls(seen)


def posts(segment_id: int, operation_id: int) -> dict[str, dict[str, str]]:
    """Every POST route of the pages, with fields that would otherwise succeed."""
    return {
        "/assignment/preview": {"action": "assign", "to": CSM, "refs": "ALONE"},
        "/accounts/preview": {"action": "assign", "to": CSM, "refs": "ALONE"},
        "/operations/apply": {"action": "assign", "to": CSM, "refs": "ALONE", "fingerprint": "x"},
        f"/operations/{operation_id}/undo": {"fingerprint": "x"},
        "/accounts/ALONE/csms": {"csm": CSM},
        "/accounts/PARENT/csms/remove": {"csm": CSM},
        "/accounts/CHILD/policy/preview": {"policy": "own"},
        "/accounts/CHILD/policy": {"policy": "own", "fingerprint": "x"},
        "/accounts/new": {"name": "New account"},
        "/accounts/ALONE/edit": {"name": "Renamed"},
        "/accounts/CHILD/parent": {"top_level": "true"},
        "/accounts/default-policy": {"policy": "inherit"},
        "/accounts/policy": {"policy": "own", "refs": "ALONE"},
        "/segments/new": {"name": "X", "rule": "tier = 1"},
        "/segments/refresh": {},
        f"/segments/{segment_id}/edit": {"name": "Y", "rule": "tier = 2"},
        f"/segments/{segment_id}/delete": {},
        "/users/add": {"email": "new@example.com"},
        "/users/role": {"email": CSM, "role": "admin"},
        "/users/seat": {"email": CSM, "seat": "false"},
        "/users/password": {"email": CSM, "password": "a new password!"},
        "/users/deactivate": {"email": CSM},
        "/users/activate": {"email": CSM},
        "/users/tokens": {"email": CSM, "name": "x"},
        "/users/tokens/revoke": {"token_id": "1"},
        "/attributes/add": {"name": "plan", "type": "text"},
        "/attributes/rename": {"old": "plan", "new": "tier_plan"},
        "/roles/add": {"name": "onboarding"},
        "/import": {"kind": "accounts"},
        "/import/x/options": {"map": "Owner=csms"},
        "/import/x/apply": {},
        "/import/x/cancel": {},
    }


OWN_POSTS = ("/tokens", "/tokens/revoke")
"""The POST routes every signed-in user may use, on their own things (My tokens): nobody
signed in is beyond their role; tests/http/web/test_setup_pages.py checks each keeps to the
caller's own."""


def test_every_page_post_route_is_covered() -> None:
    paths = [*posts(1, 1), *OWN_POSTS]
    for method, template in ROUTE_ROLES:
        if method != "POST" or template.startswith(("/api/", "/login", "/logout")):
            continue
        pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", template)
        assert any(re.fullmatch(pattern, path) for path in paths), template


def _operation_id(engine: Engine) -> int:
    with read_session(engine) as session:
        return list_operations(session, limit=1)[0].id


@pytest.mark.parametrize("role", ["viewer", "manager"])
def test_posts_beyond_the_role_are_refused_and_change_nothing(
    as_role: Callable[..., SignedIn], engine: Engine, role: str
) -> None:
    segment_id = make_world(engine)
    signed = as_role(role, csm_seat=True)
    operation_id = _operation_id(engine)
    for path, data in posts(segment_id, operation_id).items():
        if role == "manager" and _needed(path) != "admin":
            continue
        response = signed.client.post(path, data={**data, "csrf_token": signed.csrf})
        assert response.status_code == 403, (path, response.status_code)
        assert "this needs the" in response.text
    with read_session(engine) as session:
        assert get_user(session, CSM).role == "manager"
        assert get_user(session, CSM).active


def _needed(path: str) -> str:
    for (method, template), role in ROUTE_ROLES.items():
        pattern = re.sub(r"\{[a-z_]+\}", r"[^/]+", template)
        if method == "POST" and re.fullmatch(pattern, path):
            return role
    raise AssertionError(f"no route for {path}")


def test_a_form_without_the_csrf_token_is_refused(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    segment_id = make_world(engine)
    admin = as_role("admin")
    for path, data in posts(segment_id, _operation_id(engine)).items():
        response = admin.client.post(path, data=data)
        assert response.status_code == 403, path
        assert "CSRF" in response.text
        wrong = admin.client.post(path, data={**data, "csrf_token": "forged"})
        assert wrong.status_code == 403, path
    with read_session(engine) as session:
        assert get_user(session, CSM).role == "manager"


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, engine: Engine) -> None:
    segment_id = make_world(engine)
    for url in [*pages(segment_id), "/users"]:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=")


def test_my_book_lists_the_callers_accounts(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_world(engine)
    csm = as_role("viewer", csm_seat=True, email="lee@example.com")
    with write_session(engine) as session:
        lee = get_user(session, "lee@example.com")
        assign_accounts(
            session, selection=AccountRefs(["PARENT", "ALONE"]), csms=[lee], actor=actor(session)
        )
    page = Page.of(csm.client.get("/my-book"))
    assert page.status == 200
    assert "2 accounts · MRR 2,000.00" in page.text()
    assert [a.text() for a in page.root.find("tbody").find_all("a")] == ["Alone", "Parent"]
    assert "1–2 of 2" in page.root.find("nav", class_="pager").text()  # the book's count
    nav = [a.text() for a in page.root.find("nav", aria_label="Main").find_all("a")]
    assert "My book" in nav
    assert "Users" not in nav
    no_seat = as_role("viewer")
    empty = Page.of(no_seat.client.get("/my-book"))
    assert "You have no CSM seat" in empty.text()
    assert "My book" not in [
        a.text() for a in empty.root.find("nav", aria_label="Main").find_all("a")
    ]
