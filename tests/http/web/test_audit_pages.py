"""Audit pages: an operation's detail (changes filtered, paged, CSV), the operations log's
filters and words, a CSM's book on a date, an account's owners on a date."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, transfer_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.csvsafe import EXPORT_MARKER
from bookwise.dates import today
from bookwise.db import write_session
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page

ANA, BEN = "ana@example.com", "ben@example.com"


def make_history(engine: Engine, accounts: int = 3) -> None:
    """1 assigns the accounts to Ana; 2 moves them to Ben; 3 undoes 2."""
    with write_session(engine) as session:
        me = actor(session)
        ana = make_user(session, ANA, name="Ana Lima")
        ben = make_user(session, BEN, name="Ben Ode")
        refs = [f"R{n}" for n in range(accounts)]
        for n, ref in enumerate(refs):
            name = "=HYPERLINK(1)" if n == 0 else f"Account {n:03}"
            make_account(session, name, external_id=ref)
        assign_accounts(session, selection=AccountRefs(refs), csms=[ana], actor=me)
        moved = transfer_accounts(session, from_csm=ana, to_csm=ben, actor=me)
        undo_operation(session, operation_id=moved.operation_id or 0, actor=me)


def rows(page: Page) -> list[str]:
    return [row.text() for row in page.root.find("tbody").find_all("tr")]


def test_an_operation_page_lists_every_owner_it_changed(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine, accounts=60)
    viewer = as_role("viewer").client
    page = Page.of(viewer.get("/operations/2"))
    assert page.status == 200
    text = page.root.text()
    assert "Operation #2: transfer" in text
    assert "from Ana Lima (ana@example.com)" in text  # names first
    assert "Undone by" in text
    shown = rows(page)
    assert len(shown) == 50  # one page of 120 changes
    assert "1–50 of 120" in page.root.find("nav", aria_label="Pages of changes").text()
    assert "Ana Lima" in shown[1] or "Ana Lima" in shown[0]

    added = rows(Page.of(viewer.get("/operations/2", params={"action": "open"})))
    assert all("added" in row and "Ben Ode" in row for row in added)
    one = rows(Page.of(viewer.get("/operations/2", params={"account": "account 007"})))
    assert len(one) == 2
    assert all("Account 007" in row for row in one)
    ana = Page.of(viewer.get("/operations/2", params={"owner": "Ana Lima", "page": 2}))
    assert "51–60 of 60" in ana.root.find("nav", aria_label="Pages of changes").text()
    missing = Page.of(viewer.get("/operations/2", params={"owner": "Nobody"}))
    assert missing.status == 404
    assert "Nobody" in missing.root.text()
    assert viewer.get("/operations/99").status_code == 404

    undo = Page.of(viewer.get("/operations/3")).root.text()
    assert "undoes #2 (transfer)" in undo

    exported = viewer.get("/operations/2/changes.csv", params={"action": "close"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == EXPORT_MARKER
    table = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert len(table) == 60
    assert {row["action"] for row in table} == {"close"}
    assert table[0]["account"] == "'=HYPERLINK(1)"  # formula-safe
    assert (table[0]["user_name"], table[0]["user"]) == ("Ana Lima", ANA)


def test_the_operations_log_filters_and_speaks_in_words(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine)
    viewer = as_role("viewer").client
    everything = rows(Page.of(viewer.get("/operations")))
    assert len(everything) == 3
    assert "undoes #2 (transfer)" in everything[0]
    assert "undoes #:" not in everything[0]
    assert "to Ben Ode (ben@example.com)" in everything[1]  # names first
    assert rows(Page.of(viewer.get("/operations", params={"kind": "transfer"})))[0].startswith("2 ")
    assert len(rows(Page.of(viewer.get("/operations", params={"account": "R1"})))) == 3
    day = today().isoformat()
    assert len(rows(Page.of(viewer.get("/operations", params={"since": day, "until": day})))) == 3
    before = (today() - timedelta(days=1)).isoformat()
    none = rows(Page.of(viewer.get("/operations", params={"until": before})))
    assert none == [
        "No operation matches these filters. Change them, or clear them to see every operation."
    ]
    unknown = Page.of(viewer.get("/operations", params={"by": "Nobody"}))
    assert unknown.status == 404
    assert "Nobody" in unknown.root.text()
    bad = Page.of(viewer.get("/operations", params={"since": "31/12/2025"}))
    assert bad.status == 422
    assert "is not a date" in bad.root.text()


def test_a_csms_book_and_an_accounts_owners_on_a_date(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_history(engine)
    viewer = as_role("viewer").client
    empty = Page.of(viewer.get("/csms/book"))
    assert empty.status == 200
    assert "Ana Lima (ana@example.com)" in empty.root.find("select").text()
    book = Page.of(viewer.get("/csms/book", params={"csm": ANA, "on": today().isoformat()}))
    assert len(rows(book)) == 3  # the undo gave Ana her book back
    assert "Ana Lima" in book.root.find("h2").text()
    ben = Page.of(viewer.get("/csms/book", params={"csm": BEN, "on": "2000-01-01"}))
    assert rows(ben) == [
        "Ben Ode owned no account at the end of 2000-01-01. Choose another day or CSM above."
    ]

    owners = Page.of(viewer.get("/accounts/R1/owners", params={"on": "today"}))
    assert owners.status == 200
    assert "Ana Lima" in rows(owners)[0]
    assert "No-one owned" in rows(Page.of(viewer.get("/accounts/R1/owners?on=2000-01-01")))[0]
    account = Page.of(viewer.get("/accounts/R1"))
    assert account.root.find("form", aria_label="See the owners on a date").attrs["action"] == (
        "/accounts/R1/owners"
    )
