"""The Add account and Edit forms: checked as on the CLI, errors beside fields, PRG."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from bookwise.accounts.service import declare_attribute
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.models import Account, AuditEvent
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page


def _parent(engine: Engine) -> None:
    with write_session(engine) as session:
        me = actor(session)
        ana = make_user(session, "ana@example.com", name="Ana Lima")
        make_account(session, "Parent Co", external_id="P")
        assign_accounts(session, selection=AccountRefs(["P"]), csms=[ana], actor=me)
        declare_attribute(session, name="seats", type="number", actor=me)
        declare_attribute(session, name="plan", type="choice", choices=["Gold", "Silver"], actor=me)


def test_add_a_child_by_its_parents_name_redirects_to_it(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _parent(engine)
    manager = as_role("manager")
    listing = Page.of(manager.client.get("/accounts"))
    assert "Add account" in listing.text()
    form = Page.of(manager.client.get("/accounts/new")).form("/accounts/new")
    data = form.data(
        name="Child GmbH",
        external_id="C",
        mrr="1,200.50",
        tier="Tier 2",
        parent="parent co",
        inherit_policy="inherit",
        **{"custom.seats": "12", "custom.plan": "gold"},
    )
    response = manager.client.post("/accounts/new", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/accounts/C?done=added&operation=")
    shown = Page.of(manager.client.get(response.headers["location"]))
    assert "Account added." in shown.text()
    assert "ana@example.com" in shown.root.find("section", aria_labelledby="owners-title").text()
    with write_session(engine) as session:
        child = session.scalars(select(Account).where(Account.external_id == "C")).one()
        assert (child.mrr, child.tier, child.inherit_policy) == (120050, 2, "inherit")
        assert child.custom == {"seats": 12, "plan": "Gold"}


def test_a_refused_form_keeps_the_values_and_shows_each_error_beside_its_field(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _parent(engine)
    manager = as_role("manager")
    form = Page.of(manager.client.get("/accounts/new")).form("/accounts/new")
    data = form.data(name="X", health_score="140", mrr="lots")
    refused = Page.of(manager.client.post("/accounts/new", data=data))
    assert refused.status == 422
    assert "140" in refused.root.find("input", name="health_score").attrs["value"]
    assert refused.root.find("input", name="health_score").attrs.get("aria-invalid") == "true"
    assert refused.root.find("span", id="f-health_score-note").text()
    assert (
        "mrr" in refused.root.find("span", id="f-mrr-note").text().lower()
        or refused.root.find("span", id="f-mrr-note").text()
    )
    taken = Page.of(manager.client.post("/accounts/new", data=form.data(name="X", external_id="P")))
    assert taken.status == 409
    assert "already exists" in taken.root.find("span", id="f-external_id-note").text()
    nowhere = Page.of(manager.client.post("/accounts/new", data=form.data(name="X", parent="Nope")))
    assert "no account" in nowhere.root.find("span", id="f-parent-note").text()
    bad_custom = form.data(name="X", **{"custom.seats": "many"})
    custom = Page.of(manager.client.post("/accounts/new", data=bad_custom))
    assert "not a number" in custom.text()
    with write_session(engine) as session:
        assert session.scalars(select(Account.external_id)).all() == ["P"]


def test_edit_saves_changed_fields_and_records_them(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _parent(engine)
    manager = as_role("manager")
    account_page = Page.of(manager.client.get("/accounts/P"))
    assert "Edit details" in account_page.text()
    form = Page.of(manager.client.get("/accounts/P/edit")).form("/accounts/P/edit")
    assert dict(form.fields())["name"] == "Parent Co"
    response = manager.client.post(
        "/accounts/P/edit",
        data=form.data(name="Parent Inc", region="EMEA", **{"custom.plan": "Silver"}),
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/accounts/P?done=saved")
    again = manager.client.post(
        "/accounts/P/edit",
        data=form.data(name="Parent Inc", region="EMEA", **{"custom.plan": "Silver"}),
        follow_redirects=False,
    )
    assert again.headers["location"] == "/accounts/P?done=unchanged"
    refused = Page.of(manager.client.post("/accounts/P/edit", data=form.data(name=" ")))
    assert refused.status == 422
    assert refused.root.find("span", id="f-name-note").text()
    with write_session(engine) as session:
        account = session.scalars(select(Account).where(Account.external_id == "P")).one()
        assert (account.name, account.region, account.custom) == (
            "Parent Inc",
            "EMEA",
            {"plan": "Silver"},
        )
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.updated")
        ).all()
        assert len(events) == 1


def test_viewers_get_no_forms(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    _parent(engine)
    viewer = as_role("viewer")
    assert "Edit details" not in Page.of(viewer.client.get("/accounts/P")).text()
    assert viewer.client.get("/accounts/new").status_code == 403
    assert viewer.post("/accounts/P/edit", data={"name": "X"}).status_code == 403
