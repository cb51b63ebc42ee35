"""The admin's Attributes and Roles pages, My tokens and the rule help in a browser (issue 15):
reached from the header, each form redirects back saying what it did, the token's secret is
shown once; nothing cut off at 1280 and 390 px (screenshots in /tmp/bookwise-setup-*.png)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from bookwise.db import read_session
from bookwise.models import AssignmentRole, AttributeDefinition
from tests.browser.book import make_book, sign_in
from tests.browser.layout import layout_problems

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


def _look(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert layout_problems(page) == [], f"{name} at {width} px"
        page.screenshot(path=f"/tmp/bookwise-setup-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_admin_declares_an_attribute_adds_a_role_and_makes_a_token(
    page: Page, engine: Engine
) -> None:
    book = make_book(engine)  # its lead is an admin
    sign_in(page, book.lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Attributes").click()
    expect(page.get_by_role("heading", name="Custom attributes", exact=True)).to_be_visible()
    page.get_by_label("Name").fill("plan")
    page.get_by_label("Type").select_option("choice")
    page.get_by_label("Choices (for choice only)").fill("free, pro")
    page.get_by_role("button", name="Declare").click()
    expect(page.get_by_role("status")).to_contain_text("Declared the custom attribute plan")
    expect(page.get_by_role("cell", name="free, pro")).to_be_visible()
    _look(page, "attributes")
    with read_session(engine) as session:
        assert session.get(AttributeDefinition, "plan") is not None

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roles").click()
    page.get_by_label("Name").fill("account_manager")
    page.get_by_label(re.compile("Inheritable")).check()
    page.get_by_role("button", name="Add role").click()
    expect(page.get_by_role("status")).to_contain_text("Added the role account_manager")
    _look(page, "roles")
    with read_session(engine) as session:
        role = session.get(AssignmentRole, "account_manager")
        assert role is not None
        assert role.inheritable

    page.get_by_role("link", name="My tokens").click()
    page.get_by_label("Name").fill("laptop script")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#secret").input_value()
    assert secret.startswith("bw_")
    _look(page, "token-created")
    page.get_by_role("link", name="Back to my tokens").click()
    expect(page.get_by_role("cell", name="laptop script", exact=True)).to_be_visible()
    assert secret not in page.content()
    _look(page, "my-tokens")

    page.goto("/accounts")
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Fields and operators a rule may use").first.click()
    help_page = popup.value
    expect(help_page.get_by_role("cell", name="custom.plan", exact=True)).to_be_visible()
    _look(help_page, "rule-fields")
