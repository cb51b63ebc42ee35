"""The audit pages as a person uses them: from the operations log to one operation's changes,
filtered; a CSM's book on a date; an account's owners on a date. At 1280 and 390 px nothing
scrolls sideways; screenshots go to /tmp/bookwise-audit-*.png for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from bookwise.assignments.service import transfer_accounts
from bookwise.db import write_session
from bookwise.users.service import get_user
from tests.browser.book import make_book, sign_in
from tests.factories import actor

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


def _sideways(page: Page) -> bool:
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )


def _look(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert not _sideways(page), f"{name} scrolls sideways at {width} px"
        page.screenshot(path=f"/tmp/bookwise-audit-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_from_the_log_to_what_an_operation_changed(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    with write_session(engine) as session:
        michael = get_user(session, "michael@example.com")
        ana = get_user(session, "ana@example.com")
        transfer_accounts(
            session, from_csm=michael, to_csm=ana, actor=actor(session), reason="rebalance"
        )
    sign_in(page, book.lead)

    page.goto("/operations")
    page.get_by_label("Kind", exact=True).select_option("transfer")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_role("table", name="Operations, newest first").locator("tbody tr")
    expect(rows).to_have_count(1)
    _look(page, "operations")

    rows.first.get_by_role("link", name="transfer").click()
    expect(page.get_by_role("heading", name="transfer", exact=False).first).to_be_visible()
    changes = page.get_by_role("table", name="added and removed", exact=False)
    expect(changes.locator("tbody tr").first).to_contain_text("removed")
    page.get_by_label("Added or removed").select_option("open")
    page.get_by_role("button", name="Filter").click()
    expect(changes.locator("tbody tr").first).to_contain_text(book.csm_name("ana"))
    expect(changes.locator("tbody")).not_to_contain_text("removed")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith("-changes.csv")
    _look(page, "operation")

    page.goto("/csms/book")
    page.get_by_label("CSM", exact=True).select_option(
        label=f"{book.csm_name('ana')} (ana@example.com)"
    )
    page.get_by_role("button", name="Show the book").click()
    expect(page.get_by_role("heading", name=book.csm_name("ana"), exact=False)).to_be_visible()
    _look(page, "book")

    page.goto("/accounts/GLOBEX")
    page.get_by_label("Owners on a date", exact=True).fill("2030-01-01")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("heading", name="At the end of", exact=False)).to_be_visible()
    _look(page, "owners")
