"""The Users page (admins): add, role, seat, password, deactivate, activate, API tokens."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.accounts.service import get_account
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.users.service import find_user, get_user
from tests.factories import actor, make_account, make_user
from tests.helpers import open_csms
from tests.http.conftest import BASE_URL, SignedIn, sign_in
from tests.http.web.page import Form, Page


def post_form(signed: SignedIn, page: Page, action: str, **changes: str) -> Page:
    """Submit the (first) form posting to ``action`` with some fields changed."""
    data = page.form(action).data(**changes)
    return Page.of(signed.client.post(action, data=data))


def post_row_form(signed: SignedIn, page: Page, email: str, action: str, **changes: str) -> Page:
    """Submit the form posting to ``action`` in the row of user ``email``."""
    rows = page.root.find("section", aria_labelledby="people-title").find("tbody").find_all("tr")
    row = next(r for r in rows if r.find("span", class_="muted small").text() == email)
    data = Form(page, row.find("form", action=action)).data(**changes)
    return Page.of(signed.client.post(action, data=data))


def test_add_a_user_who_then_signs_in(
    as_role: Callable[..., SignedIn], app: FastAPI, engine: Engine
) -> None:
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    assert users.status == 200
    added = post_form(
        admin,
        users,
        "/users/add",
        email="dana@example.com",
        name="Dana Scully",
        role="manager",
        csm_seat="true",
        password="a long enough password",
    )
    assert added.status == 200
    assert (
        "Added Dana Scully (dana@example.com): manager, with CSM seat, can sign in." in added.text()
    )
    with read_session(engine) as session:
        dana = get_user(session, "dana@example.com")
        assert (dana.role, dana.csm_seat, dana.name) == ("manager", True, "Dana Scully")
    dana_client = sign_in(app, "dana@example.com", "a long enough password")
    assert dana_client.client.get("/assignment").status_code == 200


def test_adding_a_user_twice_or_with_a_short_password_keeps_the_form(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    short = post_form(admin, users, "/users/add", email="eve@example.com", password="short")
    assert short.status == 422
    assert "at least 10 characters" in short.error()
    assert short.root.find("input", name="email", id="new-email").attrs["value"] == (
        "eve@example.com"
    )
    with read_session(engine) as session:
        assert find_user(session, "eve@example.com") is None  # all or nothing
    post_form(admin, users, "/users/add", email="eve@example.com")
    twice = post_form(admin, users, "/users/add", email="EVE@example.com")
    assert twice.status == 409
    assert "already exists" in twice.error()


def test_role_seat_and_password(
    as_role: Callable[..., SignedIn], app: FastAPI, engine: Engine
) -> None:
    with write_session(engine) as session:
        make_user(session, "finn@example.com", role="viewer", seat=False)
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    promoted = post_row_form(admin, users, "finn@example.com", "/users/role", role="manager")
    assert "(finn@example.com) is now a manager." in promoted.text()
    seated = post_row_form(admin, promoted, "finn@example.com", "/users/seat")
    assert "(finn@example.com) now has a CSM seat." in seated.text()
    with read_session(engine) as session:
        finn = get_user(session, "finn@example.com")
        assert (finn.role, finn.csm_seat) == ("manager", True)
    password = post_row_form(
        admin, seated, "finn@example.com", "/users/password", password="finn's new password"
    )
    assert re.search(r"Set a new password for [^.]+ \(finn@example\.com\)\.", password.text())
    assert sign_in(app, "finn@example.com", "finn's new password").csrf
    last = post_row_form(admin, password, admin_email(admin), "/users/role", role="viewer")
    assert last.status == 409
    assert "last active admin" in last.error()


def admin_email(signed: SignedIn) -> str:
    """The signed-in user's email, as the header shows it."""
    page = Page.of(signed.client.get("/users"))
    who = page.root.find("span", class_="who")
    return who.attrs.get("title") or who.text().split(" · ")[0]


def test_deactivate_with_transfer_then_activate(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        leaving = make_user(session, "gil@example.com", name="Gil")
        make_user(session, "hana@example.com", name="Hana")
        make_account(session, "Kept", external_id="K1")
        assign_accounts(
            session, selection=AccountRefs(["K1"]), csms=[leaving], actor=actor(session)
        )
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    options = users.root.find("select", name="transfer_to").find_all("option")
    assert [o.attrs["value"] for o in options] == ["", "hana@example.com"]
    preview = post_row_form(
        admin, users, "gil@example.com", "/users/deactivate", transfer_to="hana@example.com"
    )
    assert "Deactivate Gil and move their accounts to Hana" in preview.text()
    with read_session(engine) as session:
        assert get_user(session, "gil@example.com").active  # a preview writes nothing
    done = post_form(admin, preview, "/users/deactivate")
    assert (
        "Deactivated Gil (gil@example.com): 1 account moved to Hana (hana@example.com)."
        in done.text()
    )
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "K1")) == {"hana@example.com"}
        assert not get_user(session, "gil@example.com").active
    activate_forms = done.root.find_all("form", action="/users/activate")
    assert len(activate_forms) == 1
    back = post_form(admin, done, "/users/activate")
    assert "Activated Gil (gil@example.com)." in back.text()


def test_deactivate_keeping_the_accounts_and_not_yourself(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        leaving = make_user(session, "ivy@example.com")
        make_account(session, "Kept", external_id="K1")
        assign_accounts(
            session, selection=AccountRefs(["K1"]), csms=[leaving], actor=actor(session)
        )
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    kept = post_row_form(admin, users, "ivy@example.com", "/users/deactivate")
    assert "stay, flagged owner inactive" in kept.text()
    me = admin_email(admin)
    rows = kept.root.find("section", aria_labelledby="people-title").find("tbody").find_all("tr")
    mine = next(r for r in rows if me in r.text())
    assert not mine.find_all("form", action="/users/deactivate")  # no button to lock yourself out
    refused = Page.of(
        admin.client.post("/users/deactivate", data={"email": me, "csrf_token": admin.csrf})
    )
    assert refused.status == 422
    assert "cannot deactivate yourself" in refused.error()
    assignment = Page.of(admin.client.get("/assignment", params={"rep": "ivy@example.com"}))
    assert "is inactive" in assignment.text()


def test_api_token_shown_once_listed_and_revoked(
    as_role: Callable[..., SignedIn], app: FastAPI, engine: Engine
) -> None:
    with write_session(engine) as session:
        make_user(session, "jo@example.com", role="viewer")
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    created = post_form(admin, users, "/users/tokens", email="jo@example.com", name="sync")
    assert created.status == 200
    secret = created.root.find("input", id="secret").attrs["value"]
    assert secret.startswith("bw_")
    script = TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {secret}"})
    assert script.get("/api/v1/me").json()["email"] == "jo@example.com"
    listing = Page.of(admin.client.get("/users"))
    assert secret not in listing.html  # shown once, never again
    tokens = listing.root.find("section", aria_labelledby="tokens-title").text()
    assert "jo@example.com" in tokens
    assert "sync" in tokens
    assert secret[:10] in tokens
    revoked = post_form(admin, listing, "/users/tokens/revoke")
    assert "Revoked API token “sync”" in revoked.text()
    assert script.get("/api/v1/me").status_code == 401
    unnamed = post_form(admin, revoked, "/users/tokens", name=" ")
    assert unnamed.status == 422
    assert "token name" in unnamed.error()


def test_deactivating_a_user_with_two_roles_on_one_account_moves_both(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        me = actor(session)
        leaving = make_user(session, "gil@example.com", name="Gil")
        make_user(session, "hana@example.com", name="Hana")
        add_role(session, name="account_manager", actor=me)
        make_account(session, "Acme", external_id="ACME")
        for role in ("csm", "account_manager"):
            assign_accounts(
                session, selection=AccountRefs(["ACME"]), csms=[leaving], actor=me, role=role
            )
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    preview = post_row_form(
        admin, users, "gil@example.com", "/users/deactivate", transfer_to="hana@example.com"
    )
    done = post_form(admin, preview, "/users/deactivate")
    assert "Deactivated Gil (gil@example.com)" in done.text()
    with read_session(engine) as session:
        acme = get_account(session, "ACME")
        assert open_csms(session, acme) == {"hana@example.com"}
        assert open_csms(session, acme, role="account_manager") == {"hana@example.com"}


def test_a_stale_deactivation_preview_shows_the_fresh_one(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        leaving = make_user(session, "gil@example.com", name="Gil")
        make_user(session, "hana@example.com", name="Hana")
        make_account(session, "Kept", external_id="K1")
        make_account(session, "Late", external_id="K2")
        assign_accounts(
            session, selection=AccountRefs(["K1"]), csms=[leaving], actor=actor(session)
        )
    admin = as_role("admin")
    users = Page.of(admin.client.get("/users"))
    preview = post_row_form(
        admin, users, "gil@example.com", "/users/deactivate", transfer_to="hana@example.com"
    )
    with write_session(engine) as session:
        gil = get_user(session, "gil@example.com")
        assign_accounts(session, selection=AccountRefs(["K2"]), csms=[gil], actor=actor(session))

    again = post_form(admin, preview, "/users/deactivate")

    assert "The accounts changed since your preview" in again.text()
    assert "2 accounts would change" in again.text()
    with read_session(engine) as session:
        assert get_user(session, "gil@example.com").active
        assert open_csms(session, get_account(session, "K2")) == {"gil@example.com"}


def test_deactivating_a_user_who_owns_nothing_needs_no_preview(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        make_user(session, "gil@example.com", name="Gil")
        make_user(session, "hana@example.com", name="Hana")
    admin = as_role("admin")
    done = Page.of(
        admin.post(  # type: ignore[arg-type]
            "/users/deactivate",
            data={"email": "gil@example.com", "transfer_to": "hana@example.com"},
        )
    )
    assert "Deactivated Gil (gil@example.com): they owned no accounts." in done.text()
    with read_session(engine) as session:
        assert not get_user(session, "gil@example.com").active
