"""Segments: create with a live preview (Custify's recipe), members, edit, refresh, delete."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

MICHAEL = "michael@example.com"
PARENTS = "Michael's parent companies"
CHILDREN = "Michael's children companies"


def make_families(engine: Engine) -> None:
    """Michael owns GLOBEX and UMBRELLA (parents of three children); INITECH is Ana's parent."""
    with write_session(engine) as session:
        make_user(session, MICHAEL, name="Michael Chen")
        make_user(session, "ana@example.com", name="Ana Silva")
        globex = make_account(session, "Globex", external_id="GLOBEX")
        umbrella = make_account(session, "Umbrella", external_id="UMBRELLA")
        initech = make_account(session, "Initech", external_id="INITECH")
        make_account(session, "Globex France", external_id="GLOBEX-FR", parent=globex)
        make_account(session, "Globex Spain", external_id="GLOBEX-ES", parent=globex)
        make_account(session, "Umbrella Labs", external_id="UMBRELLA-LABS", parent=umbrella)
        make_account(session, "Initech UK", external_id="INITECH-UK", parent=initech)
        make_account(session, "Loner", external_id="LONER")
        assign_accounts(
            session,
            selection=AccountRefs(["GLOBEX", "UMBRELLA"]),
            csms=[get_user(session, MICHAEL)],
            actor=actor(session),
        )
        assign_accounts(
            session,
            selection=AccountRefs(["INITECH"]),
            csms=[get_user(session, "ana@example.com")],
            actor=actor(session),
        )


def save(signed: SignedIn, name: str, rule: str, *, intent: str = "save") -> Page:
    """Fill in the new-segment form and press Save (or Preview)."""
    form = Page.of(signed.client.get("/segments/new")).form("/segments/new")
    data = form.data(name=name, rule=rule, intent=intent)
    return Page.of(signed.client.post("/segments/new", data=data, follow_redirects=True))


def member_names(page: Page) -> set[str]:
    """The account names in the members table."""
    return {a.text() for a in page.root.find("tbody").find_all("a")}


def test_the_custify_recipe(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    make_families(engine)
    lead = as_role("manager")
    preview = save(
        lead, PARENTS, "csm is michael@example.com and company level is 1", intent="preview"
    )
    assert preview.status == 200
    assert "Preview: 2 matching accounts" in preview.text()
    assert member_names(preview) == {"Globex", "Umbrella"}
    assert preview.root.find("input", name="name").attrs["value"] == PARENTS  # form kept
    assert preview.root.find("textarea", name="rule").attrs["data-rule-check"] == "rule-status"

    parents = save(lead, PARENTS, "csm is michael@example.com and company level is 1")
    assert parents.status == 200
    assert parents.root.find("h1").text().startswith(PARENTS)
    assert member_names(parents) == {"Globex", "Umbrella"}

    children_rule = (
        "company level is 0 and parent company is in segment “michael’s parent companies”"
    )
    children = save(lead, CHILDREN, children_rule)
    assert children.status == 200
    assert member_names(children) == {"Globex France", "Globex Spain", "Umbrella Labs"}
    assert "2 members now" not in children.text()
    assert "3 members now" in children.text()
    assert "Means" in children.text()

    listing = Page.of(lead.client.get("/segments"))
    rows = listing.root.find("tbody").text()
    assert PARENTS in rows
    assert CHILDREN in rows
    assert "parent in segment" in rows  # stored under the canonical spelling

    # The children's segment opens in the accounts list, ready to assign them to Michael.
    accounts_link = next(
        a.attrs["href"] for a in children.root.find_all("a") if "Open in the accounts" in a.text()
    )
    in_list = Page.of(lead.client.get(accounts_link))
    assert in_list.status == 200
    assert len(in_list.values("refs")) == 3


def test_a_segment_in_use_cannot_be_deleted(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_families(engine)
    lead = as_role("manager")
    save(lead, PARENTS, "csm is michael@example.com and company level is 1")
    save(lead, CHILDREN, f'is_child and parent in segment "{PARENTS}"')
    listing = Page.of(lead.client.get("/segments"))
    parents_id = _segment_id(listing, PARENTS)
    refused = Page.of(
        lead.client.post(
            f"/segments/{parents_id}/delete",
            data=listing.form(f"/segments/{parents_id}/delete").data(),
        )
    )
    assert refused.status == 409
    assert f'is used by "{CHILDREN}"' in refused.error()
    children_id = _segment_id(listing, CHILDREN)
    deleted = Page.of(
        lead.client.post(
            f"/segments/{children_id}/delete",
            data=listing.form(f"/segments/{children_id}/delete").data(),
        )
    )
    assert deleted.status == 200
    assert f"Deleted segment “{CHILDREN}”" in deleted.text()
    assert CHILDREN not in deleted.root.find("tbody").text()


def _segment_id(page: Page, name: str) -> int:
    link = next(a for a in page.root.find("tbody").find_all("a") if a.text() == name)
    found = re.fullmatch(r"/segments/(\d+)", link.attrs["href"])
    assert found
    return int(found.group(1))


def test_errors_re_render_the_form(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    make_families(engine)
    lead = as_role("manager")
    bad = save(lead, "Broken", "csm is nobody@example.com")
    assert bad.status in {404, 422}
    assert "nobody@example.com" in bad.error()
    assert bad.root.find("input", name="name").attrs["value"] == "Broken"
    typo = save(lead, "Typo", "tier => 1", intent="preview")
    assert typo.status == 422
    assert "invalid rule" in typo.error()
    assert typo.root.find("pre", class_="caret")
    save(lead, "Top", "depth = 0")
    twice = save(lead, "top", "depth = 0")
    assert twice.status == 409
    assert "already exists" in twice.error()


def test_edit_members_pages_and_refresh(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    make_families(engine)
    lead = as_role("manager")
    top = save(lead, "Top level", "depth = 0")
    assert "4 members now" in top.text()
    segment_id = _segment_id(Page.of(lead.client.get("/segments")), "Top level")
    sorted_page = Page.of(lead.client.get(f"/segments/{segment_id}", params={"sort": "-name"}))
    assert next(a.text() for a in sorted_page.root.find("tbody").find_all("a")) == "Umbrella"
    edit = Page.of(lead.client.get(f"/segments/{segment_id}/edit"))
    assert edit.root.find("textarea", name="rule").text() == "depth = 0"
    form = edit.form(f"/segments/{segment_id}/edit")
    changed = Page.of(
        lead.client.post(
            f"/segments/{segment_id}/edit",
            data=form.data(name="Tops", rule="depth = 0 and csm is empty"),
            follow_redirects=True,
        )
    )
    assert changed.root.find("h1").text().startswith("Tops")
    assert member_names(changed) == {"Loner"}
    listing = Page.of(lead.client.get("/segments"))
    assert "never" in listing.root.find("tbody").text()
    refreshed = Page.of(
        lead.client.post("/segments/refresh", data=listing.form("/segments/refresh").data())
    )
    assert "Refreshed 1 segments: 1 entries" in refreshed.text()
    assert "never" not in refreshed.root.find("tbody").text()
