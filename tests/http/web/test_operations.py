"""The Operations page: who did what, with which filter; Undo (previewed first), refusals."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.accounts.service import get_account
from bookwise.assignments.history import list_operations
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts
from bookwise.db import read_session, write_session
from bookwise.demo.generator import generate_demo
from bookwise.segments.rules import rule_selection
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.helpers import open_csms, table_counts
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

ANA, BEN = "ana@example.com", "ben@example.com"


def make_history(engine: Engine) -> None:
    """Operation 1 assigns tier-1 accounts to Ana by rule; operation 2 moves one to Ben."""
    with write_session(engine) as session:
        ana = make_user(session, ANA)
        ben = make_user(session, BEN)
        make_account(session, "One", external_id="ONE", tier=1)
        make_account(session, "Two", external_id="TWO", tier=1)
        make_account(session, "Three", external_id="THREE", tier=2)
        assign_accounts(
            session,
            selection=rule_selection(session, "tier = 1"),
            csms=[ana],
            actor=actor(session),
        )
        transfer_accounts(
            session,
            from_csm=ana,
            to_csm=ben,
            selection=AccountRefs(["ONE"]),
            actor=actor(session),
        )


def test_the_list_shows_who_what_when_and_the_rule(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine)
    viewer = as_role("viewer")
    page = Page.of(viewer.client.get("/operations"))
    assert page.status == 200
    rows = [row.text() for row in page.root.find("tbody").find_all("tr")]
    assert rows[0].startswith("2 ")
    assert "transfer" in rows[0]
    assert BEN in rows[0]
    assert "assign" in rows[1]
    assert "rule: tier = 1" in rows[1]
    assert "cli@bookwise.invalid" in rows[1]
    assert "Undo" not in page.buttons()  # a viewer


def undo_preview(signed: SignedIn, page: Page, operation_id: int) -> Page:
    """Follow a page's "Undo…" link for the operation: the preview of the undo."""
    link = page.root.find("a", aria_label=f"Undo operation {operation_id}…")
    return Page.of(signed.client.get(link.attrs["href"]))


def press_undo(signed: SignedIn, preview: Page, operation_id: int) -> Page:
    """Press Undo on an undo's preview (it posts the preview's fingerprint)."""
    action = f"/operations/{operation_id}/undo"
    return Page.of(signed.client.post(action, data=preview.form(action).data()))


def test_undo_from_the_list_is_previewed_then_applied_and_a_refused_undo(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine)
    lead = as_role("manager")
    page = Page.of(lead.client.get("/operations"))
    assert not page.root.find_all("form", action="/operations/1/undo")  # no undo unseen
    refused = undo_preview(lead, page, 1)
    assert refused.status == 409
    assert "later operations changed the same accounts" in refused.error()
    assert "#2 (transfer)" in refused.error()
    assert "Nothing was changed" in refused.text()

    preview = undo_preview(lead, page, 2)
    assert preview.status == 200
    assert "Preview: Undo operation #2 (transfer)" in preview.text()
    assert "1 account would change" in preview.text()
    assert "Operation: transfer by bookwise CLI (cli@bookwise.invalid)" in preview.text()
    changes = preview.root.find("table", id="changes").text()
    assert f"{ANA} + gets the account" in changes
    assert f"{BEN} − loses the account" in changes
    with read_session(engine) as session:  # a preview changes nothing
        assert open_csms(session, get_account(session, "ONE")) == {BEN}
    assert preview.form("/operations/2/undo").data()["fingerprint"] != [""]

    undone = press_undo(lead, preview, 2)
    assert undone.status == 200
    assert "Undid operation #2" in undone.text()
    flash = undone.root.find("div", class_="flash done")
    assert "Undo…" not in flash.text()  # an undo is not offered for undoing here
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ONE")) == {ANA}
    after = Page.of(lead.client.get("/operations"))
    assert "undone by #" in after.root.find("tbody").text()  # ids skip on PostgreSQL
    first = press_undo(lead, undo_preview(lead, after, 1), 1)
    assert first.status == 200  # the later change was undone: now operation 1 can be
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ONE")) == set()
        assert get_user(session, ANA).active
    again = Page.of(lead.client.get("/operations/1/undo"))
    assert again.status == 409
    assert "already undone" in again.error()


def test_an_undo_without_the_preview_or_after_a_change_shows_a_fresh_preview(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine)
    lead = as_role("manager")
    blind = Page.of(lead.client.post("/operations/2/undo", data={"csrf_token": lead.csrf}))
    assert blind.error() == ""  # no fingerprint: sent to the preview, nothing undone
    assert "Preview: Undo operation #2" in blind.text()
    with read_session(engine) as session:  # nothing was undone
        assert open_csms(session, get_account(session, "ONE")) == {BEN}
        assert len(list_operations(session)) == 2

    preview = Page.of(lead.client.get("/operations/2/undo"))
    # A fingerprint of another change set: what a preview taken before a change would carry.
    stale = Page.of(
        lead.client.post(
            "/operations/2/undo",
            data=preview.form("/operations/2/undo").data(fingerprint="0123456789abcdef"),
        )
    )
    assert stale.status == 200
    assert "changed since your preview" in stale.error()
    assert "Preview: Undo operation #2" in stale.text()
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ONE")) == {BEN}
    assert "Undid operation #2" in press_undo(lead, stale, 2).text()  # the fresh preview
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ONE")) == {ANA}


def test_the_demo_load_offers_no_undo(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    generate_demo(engine, accounts=5)
    lead = as_role("manager")
    page = Page.of(lead.client.get("/operations"))
    # The load is the oldest row (the demo's past year of moves follows it).
    row = page.root.find("tbody").find_all("tr")[-1].text()
    assert " demo " in f" {row} "
    assert "not from this page" in row
    with read_session(engine) as session:
        demo = list_operations(session)[-1]
        before = table_counts(session)
    links = [a.attrs["href"] for a in page.root.find("tbody").find_all("a")]
    assert f"/operations/{demo.id}/undo?back=%2Foperations" not in links  # no Undo… link
    refused = Page.of(lead.client.get(f"/operations/{demo.id}/undo"))
    assert refused.status == 409
    assert "the demo load" in refused.error()
    forced = Page.of(
        lead.client.post(
            f"/operations/{demo.id}/undo",
            data={"csrf_token": lead.csrf, "fingerprint": "0123456789abcdef"},
        )
    )
    assert forced.status == 409
    with read_session(engine) as session:
        assert table_counts(session) == before


def test_pages_of_operations(as_role: Callable[..., SignedIn], engine: Engine) -> None:
    with write_session(engine) as session:
        ana = make_user(session, ANA)
        for n in range(52):
            make_account(session, f"Acc {n}", external_id=f"R{n}")
            assign_accounts(
                session, selection=AccountRefs([f"R{n}"]), csms=[ana], actor=actor(session)
            )
    viewer = as_role("viewer")
    first = Page.of(viewer.client.get("/operations"))
    assert len(first.root.find("tbody").find_all("tr")) == 50
    second = Page.of(viewer.client.get(first.root.find("a", rel="next").attrs["href"]))
    assert len(second.root.find("tbody").find_all("tr")) == 2
    assert not second.root.find_all("a", rel="next")
