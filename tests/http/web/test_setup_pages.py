"""The Attributes, Roles, My tokens and rule-help pages, and the users and history downloads."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.auth.service import create_token, list_tokens
from bookwise.db import read_session, write_session
from bookwise.models import AssignmentRole, AttributeDefinition
from bookwise.segments.service import create_segment, get_segment
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.http.api.test_exports import cli_file
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

Role = Callable[..., SignedIn]


def _post(signed: SignedIn, page: Page, action: str, **changes: str) -> Page:
    """Submit the form posting to ``action`` as a browser would, following the redirect."""
    return Page.of(signed.client.post(action, data=page.form(action).data(**changes)))


def test_an_admin_declares_and_renames_an_attribute(as_role: Role, engine: Engine) -> None:
    admin = as_role("admin")
    page = Page.of(admin.client.get("/attributes"))
    assert "No custom attributes yet" in page.text()
    declared = admin.client.post(
        "/attributes/add",
        data=page.form("/attributes/add").data(name="plan", type="choice", choices="free, pro"),
        follow_redirects=False,
    )
    assert declared.status_code == 303  # post/redirect/get
    page = Page.of(admin.client.get(declared.headers["location"]))
    assert "Declared the custom attribute plan (choice)." in page.text()
    assert "free, pro" in page.text()
    with write_session(engine) as session:
        create_segment(session, name="Pro", rule='custom.plan = "pro"', actor=actor(session))
    page = _post(admin, page, "/attributes/rename", old="plan", new="contract_plan")
    assert "Renamed the custom attribute plan to contract_plan." in page.text()
    assert "Segment rules rewritten: Pro." in page.text()
    with read_session(engine) as session:
        assert session.get(AttributeDefinition, "contract_plan") is not None
        assert get_segment(session, "Pro").rule_text == 'custom.contract_plan = "pro"'


def test_a_refused_attribute_says_why_and_keeps_what_was_typed(as_role: Role) -> None:
    admin = as_role("admin")
    page = Page.of(admin.client.get("/attributes"))
    refused = _post(admin, page, "/attributes/add", name="plan", type="choice", choices="")
    assert "choices are required for a choice attribute" in refused.error()
    assert refused.form("/attributes/add").data()["name"] == ["plan"]
    bad = _post(admin, page, "/attributes/add", name="2nd", type="text")
    assert "must be a letter or _ followed by letters, digits or _" in bad.error()


def test_an_admin_adds_a_role(as_role: Role, engine: Engine) -> None:
    admin = as_role("admin")
    page = Page.of(admin.client.get("/roles"))
    added = _post(admin, page, "/roles/add", name="account_manager", inheritable="true")
    assert "Added the role account_manager, inheritable" in added.text()
    with read_session(engine) as session:
        role = session.get(AssignmentRole, "account_manager")
        assert role is not None
        assert role.inheritable
    again = _post(admin, added, "/roles/add", name="account_manager")
    assert "already exists" in again.error()


def test_only_admins_reach_attributes_and_roles(as_role: Role) -> None:
    for role in ("viewer", "manager"):
        signed = as_role(role)
        assert signed.client.get("/attributes").status_code == 403
        assert signed.client.get("/roles").status_code == 403
        home = Page.of(signed.client.get("/accounts"))
        assert "/attributes" not in home.root.find("nav").text() + str(
            [a.attrs.get("href") for a in home.root.find("nav").find_all("a")]
        )
    admin = as_role("admin")
    links = [a.attrs.get("href") for a in Page.of(admin.client.get("/accounts")).root.find_all("a")]
    assert {"/attributes", "/roles", "/tokens"} <= set(links)


def test_every_user_manages_their_own_tokens(as_role: Role, engine: Engine) -> None:
    viewer = as_role("viewer", email="vera@example.com")
    with write_session(engine) as session:
        other = make_user(session, "other@example.com", role="manager")
        theirs = create_token(session, user=other, name="theirs", actor=other).token.id
    page = Page.of(viewer.client.get("/tokens"))
    assert "No tokens yet." in page.text()
    created = viewer.client.post("/tokens", data=page.form("/tokens").data(name="my script"))
    assert created.headers["cache-control"] == "no-store"
    secret = Page.of(created).root.find("input", id="secret").attrs["value"]
    assert secret.startswith("bw_")
    api = viewer.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.json()["email"] == "vera@example.com"
    page = Page.of(viewer.client.get("/tokens"))
    assert "my script" in page.text()
    assert secret not in page.text()  # shown once
    revoked = _post(viewer, page, "/tokens/revoke")
    assert "Revoked your API token “my script”" in revoked.text()
    stolen = viewer.client.post(
        "/tokens/revoke", data={**page.form("/tokens/revoke").data(), "token_id": str(theirs)}
    )
    assert "you have no API token" in Page.of(stolen).error()
    with read_session(engine) as session:
        assert (
            list_tokens(session, user=get_user(session, "other@example.com"))[0].revoked_at is None
        )
        assert list_tokens(session, user=get_user(session, "vera@example.com"))[0].revoked_at


def test_the_rule_help_lists_fields_and_operators_and_rule_boxes_link_it(
    as_role: Role, engine: Engine
) -> None:
    with write_session(engine) as session:
        from bookwise.accounts.service import declare_attribute

        declare_attribute(session, name="plan", type="text", actor=actor(session))
    viewer = as_role("viewer")
    help_page = Page.of(viewer.client.get("/rules/fields"))
    text = help_page.text()
    assert "custom.plan" in text
    assert "health_score" in text
    assert "is one of" in text  # the operator `in`, in English
    for where in ("/accounts", "/segments/new"):
        signed = viewer if where == "/accounts" else as_role("manager")
        links = [a.attrs.get("href") for a in Page.of(signed.client.get(where)).root.find_all("a")]
        assert "/rules/fields" in links, where


def test_the_users_and_history_downloads_are_the_cli_files(as_role: Role, engine: Engine) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="Ana")
        make_account(session, "Acme", external_id="ACME-1")
        assign_accounts(
            session, selection=AccountRefs(["ACME-1"]), csms=[ana], actor=actor(session)
        )
    admin = as_role("admin")
    users_page = Page.of(admin.client.get("/users"))
    assert "/users/export.csv" in [a.attrs.get("href") for a in users_page.root.find_all("a")]
    download = admin.client.get("/users/export.csv")
    assert download.headers["content-disposition"] == 'attachment; filename="users.csv"'
    assert download.content == cli_file(engine)
    viewer = as_role("viewer")
    account = Page.of(viewer.client.get("/accounts/ACME-1"))
    link = next(
        a.attrs["href"]
        for a in account.root.find_all("a")
        if "history.csv" in a.attrs.get("href", "")
    )
    assert viewer.client.get(link).content == cli_file(engine, account="ACME-1")
    book = Page.of(viewer.client.get("/csms/book", params={"csm": "ana@example.com"}))
    link = next(
        a.attrs["href"] for a in book.root.find_all("a") if "history.csv" in a.attrs.get("href", "")
    )
    assert viewer.client.get(link).content == cli_file(engine, csm="ana@example.com")
    assert viewer.client.get("/users/export.csv").status_code == 403
    unknown = viewer.client.get("/export/history.csv", params={"account": "NOPE"})
    assert unknown.status_code == 404


def test_a_users_preview_offers_only_the_options_a_users_file_reads(as_role: Role) -> None:
    from tests.http.web.test_files import upload

    admin = as_role("admin")
    for kind, offered in (("users", False), ("accounts", True)):
        location = upload(admin, "Email,Name\nx@example.com,X\n", kind=kind).headers["location"]  # type: ignore[attr-defined]
        fields = {
            name
            for name, _ in Page.of(admin.client.get(location)).form(location + "/options").fields()
        }
        assert "encoding" in fields
        assert ("date_format" in fields, "map" in fields) == (offered, offered), kind
