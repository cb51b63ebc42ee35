"""Adding, editing and moving an account in Chromium, as a person does it (issue 15).

Each step is also shot at 1280 and 390 px wide into /tmp/bookwise-shots (set
BOOKWISE_SHOTS to another folder), for a person to look at: nothing clipped, the next step
obvious.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.browser.book import make_book, sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("BOOKWISE_SHOTS", "/tmp/bookwise-shots"))


def shoot(page: Page, name: str) -> None:
    """The page at desktop and phone width, full height."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_add_a_child_edit_it_move_it_and_undo(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/accounts")
    page.get_by_role("link", name="Add account").click()
    page.get_by_label("Name", exact=True).fill("Globex Italy")
    page.get_by_label("External id").fill("GLOBEX-IT")
    page.get_by_label("MRR").fill("lots")
    page.get_by_label("Parent (optional)").fill("Globex Holdings")
    page.get_by_label("inherit: follow the parent’s CSMs").check()
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_text("is not an amount of money")).to_be_visible()
    shoot(page, "account-form-error")
    page.get_by_label("MRR").fill("2,400")
    page.get_by_role("button", name="Add account").click()
    expect(page).to_have_url("/accounts/GLOBEX-IT?done=added&operation=" + page.url.split("=")[-1])
    expect(page.get_by_text("Account added.")).to_be_visible()
    expect(page.get_by_role("region", name="Current CSMs")).to_contain_text("michael@example.com")
    shoot(page, "account-added")

    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Region").fill("Southern Europe")
    shoot(page, "account-edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    page.reload()  # post/redirect/get: a refresh shows the page, posts nothing again
    expect(page.get_by_role("definition").filter(has_text="Southern Europe")).to_be_visible()

    page.get_by_text("Move to another parent…").click()
    page.get_by_label("New parent").fill("UMBRELLA")
    shoot(page, "account-move")
    page.get_by_role("button", name="Preview the move…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Move Globex Italy under")
    shoot(page, "account-move-preview")
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Moved Globex Italy under")
    expect(page).to_have_url(re.compile(r"/accounts/GLOBEX-IT$"))  # post/redirect/get
    page.get_by_role("link", name="Undo…").click()
    page.get_by_role("button", name="Undo").click()
    page.goto("/accounts/GLOBEX-IT")
    expect(page.get_by_role("region", name="Hierarchy")).to_contain_text("Globex Holdings")


def test_set_policy_for_all_matching_and_the_default(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/accounts?where=is_child")
    page.get_by_label(re.compile(r"all \d+ matching accounts")).check()
    shoot(page, "accounts-policy")
    page.get_by_role("button", name="Set inherit policy…").click()
    page.get_by_label("inherit: follow the parent’s CSMs").check()
    shoot(page, "accounts-policy-dialog")
    page.get_by_role("dialog").get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_have_count(0)  # a refusal comes back as an alert
    expect(page.get_by_role("heading", level=1)).to_contain_text("Preview")
    shoot(page, "accounts-policy-preview")
    page.goto("/accounts")
    page.get_by_role("button", name="Change the default to inherit…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("installation default")
    shoot(page, "default-policy-preview")
