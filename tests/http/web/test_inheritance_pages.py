"""Moving an account, the installation default and a selection's policy from the pages:
preview, Apply with the fingerprint, then Undo (the shared http/web/bulk.py machinery)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.accounts.service import get_account
from bookwise.assignments.details import owners_by_role
from bookwise.assignments.inheritance import reconcile_inheritance
from bookwise.assignments.plan import default_policy
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page


def _family(engine: Engine) -> None:
    """P1 owned by Ana, P2 by Ben; C (inherit) under P1, owned through it by Ana."""
    with write_session(engine) as session:
        me = actor(session)
        ana = make_user(session, "ana@example.com", name="Ana Lima")
        ben = make_user(session, "ben@example.com", name="Ben Okafor")
        p1 = make_account(session, "First Parent", external_id="P1")
        make_account(session, "Second Parent", external_id="P2")
        assign_accounts(session, selection=AccountRefs(["P1"]), csms=[ana], actor=me)
        assign_accounts(session, selection=AccountRefs(["P2"]), csms=[ben], actor=me)
        make_account(session, "Child", external_id="C", parent=p1, inherit_policy="inherit")
        make_account(session, "Loose", external_id="L", parent=p1)
        reconcile_inheritance(session, actor=me)


def _owners(engine: Engine, ref: str) -> list[str]:
    with write_session(engine) as session:
        found = owners_by_role(session, get_account(session, ref))
        return sorted(owner.email for owner in found.get("csm", []))


def test_move_an_account_by_its_parents_name_with_preview_and_undo(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _family(engine)
    manager = as_role("manager")
    account = Page.of(manager.client.get("/accounts/C"))
    form = account.form("/accounts/C/parent")
    preview = Page.of(manager.post("/accounts/C/parent", data=form.data(parent="second parent")))
    assert preview.status == 200
    assert "Move Child under Second Parent" in preview.text()
    assert "1 account would change" in preview.text()
    assert _owners(engine, "C") == ["ana@example.com"]  # a preview changes nothing
    apply = preview.form("/accounts/C/parent")
    assert "fingerprint" in dict(apply.fields())
    done = Page.of(manager.post("/accounts/C/parent", data=apply.data()))
    assert "account changed" in done.text()
    assert _owners(engine, "C") == ["ben@example.com"]
    assert any("/undo" in a.attrs.get("href", "") for a in done.root.find_all("a"))  # Undo…

    stale = apply.data()  # the same fingerprint, now stale: a fresh preview says so
    again = Page.of(manager.post("/accounts/C/parent", data=stale))
    assert again.status == 200
    assert "Preview" in again.text()


def test_a_refused_move_comes_back_to_the_account_page(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _family(engine)
    manager = as_role("manager")
    cycle = Page.of(manager.post("/accounts/P1/parent", data={"parent": "C"}))
    assert cycle.status == 409
    assert "cycle" in cycle.error()
    nowhere = Page.of(manager.post("/accounts/C/parent", data={"parent": "Nobody"}))
    assert "no account" in nowhere.error()
    empty = Page.of(manager.post("/accounts/C/parent", data={}))
    assert "name the new parent" in empty.error()


def test_change_the_installation_default_from_the_accounts_list(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _family(engine)
    manager = as_role("manager")
    listing = Page.of(manager.client.get("/accounts"))
    assert "own their CSMs" in listing.root.find("section", aria_labelledby="default-title").text()
    preview = Page.of(
        manager.post(
            "/accounts/default-policy", data=listing.form("/accounts/default-policy").data()
        )
    )
    assert "Set the installation default to inherit" in preview.text()
    assert _owners(engine, "L") == []
    done = Page.of(
        manager.post(
            "/accounts/default-policy", data=preview.form("/accounts/default-policy").data()
        )
    )
    assert "account changed" in done.text()
    assert _owners(engine, "L") == ["ana@example.com"]  # L had no policy: now it inherits
    with write_session(engine) as session:
        assert default_policy(session) == "inherit"


def test_set_the_policy_of_the_ticked_or_all_matching_accounts(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _family(engine)
    manager = as_role("manager")
    listing = Page.of(manager.client.get("/accounts", params={"where": "is_child"}))
    form = listing.form("/accounts/preview")
    data = form.data(policy="inherit", scope="all")
    preview = Page.of(manager.post("/accounts/policy", data=data))
    assert preview.status == 200, preview.error()
    assert "inherit" in preview.text()
    assert _owners(engine, "L") == []
    done = Page.of(manager.post("/accounts/policy", data=preview.form("/accounts/policy").data()))
    assert "account changed" in done.text()
    assert _owners(engine, "L") == ["ana@example.com"]

    ticked = form.data(policy="own", scope="selected", refs=["C"])
    own = Page.of(manager.post("/accounts/policy", data=ticked))
    assert "1 selected account" in own.text()
    nothing = Page.of(manager.post("/accounts/policy", data=form.data(scope="selected")))
    assert nothing.status == 422
    assert "choose the policy" in nothing.error()


def test_viewers_see_no_inheritance_controls(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _family(engine)
    viewer = as_role("viewer")
    assert "/accounts/C/parent" not in Page.of(viewer.client.get("/accounts/C")).actions()
    assert "/accounts/default-policy" not in Page.of(viewer.client.get("/accounts")).actions()
    assert viewer.post("/accounts/default-policy", data={"policy": "inherit"}).status_code == 403


def test_a_move_that_changes_no_owner_can_still_be_applied(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    _family(engine)
    manager = as_role("manager")
    preview = Page.of(manager.post("/accounts/L/parent", data={"parent": "P2"}))  # L owns: none
    assert "No owner would change" in preview.text()
    assert "Move" in preview.buttons()
    Page.of(manager.post("/accounts/L/parent", data=preview.form("/accounts/L/parent").data()))
    with write_session(engine) as session:
        assert get_account(session, "L").parent_id == get_account(session, "P2").id
