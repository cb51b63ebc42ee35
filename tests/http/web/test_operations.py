"""The Operations page: who did what, with which filter; Undo, and a refused undo."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.accounts.service import get_account
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts
from bookwise.db import read_session, write_session
from bookwise.segments.rules import rule_selection
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.helpers import open_csms
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


def test_undo_from_the_list_and_a_refused_undo(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine)
    lead = as_role("manager")
    page = Page.of(lead.client.get("/operations"))
    refused = Page.of(
        lead.client.post("/operations/1/undo", data=page.form("/operations/1/undo").data())
    )
    assert refused.status == 409
    assert "later operations changed the same accounts" in refused.error()
    assert "#2 (transfer)" in refused.error()
    assert "Nothing was changed" in refused.text()
    undone = Page.of(
        lead.client.post("/operations/2/undo", data=page.form("/operations/2/undo").data())
    )
    assert undone.status == 200
    assert "Undid operation #2" in undone.text()
    assert "Undo" not in undone.buttons()
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ONE")) == {ANA}
    after = Page.of(lead.client.get("/operations"))
    assert "undone by #" in after.root.find("tbody").text()  # ids skip on PostgreSQL
    first = Page.of(
        lead.client.post("/operations/1/undo", data=after.form("/operations/1/undo").data())
    )
    assert first.status == 200  # the later change was undone: now operation 1 can be
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ONE")) == set()
        assert get_user(session, ANA).active
    again = Page.of(lead.client.post("/operations/1/undo", data={"csrf_token": lead.csrf}))
    assert again.status == 409
    assert "already undone" in again.error()


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
