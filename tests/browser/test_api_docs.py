"""The interactive API reference (/api/v1/docs) in a real browser: Swagger UI served by
bookwise under the strict Content-Security-Policy, and Try it out with an API token."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

from bookwise.auth.service import create_token
from bookwise.db import write_session
from bookwise.users.service import find_user
from tests.browser.book import make_book, sign_in

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/bookwise-api-docs-{width}.png"


def _token(engine: Engine, email: str) -> str:
    with write_session(engine) as session:
        user = find_user(session, email)
        assert user is not None
        return create_token(session, user=user, name="API reference", actor=user).secret


def _operation(page: Page, method: str, path: str) -> Locator:
    """The block of one operation (``GET /api/v1/me``)."""
    return page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(f'[data-path="{path}"]')
    )


def _status(operation: Locator) -> Locator:
    """The status code of the answer Try it out received."""
    return operation.locator(".live-responses-table tr.response .response-col_status").first


def test_the_reference_lists_the_operations_under_the_strict_csp(
    page: Page, engine: Engine
) -> None:
    make_book(engine)
    answer = page.goto("/api/v1/docs")
    assert answer is not None
    assert answer.status == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "unsafe" not in csp
    expect(page.get_by_role("heading", name=re.compile("bookwise"))).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    expect(_operation(page, "GET", "/api/v1/accounts")).to_be_visible()
    expect(_operation(page, "POST", "/api/v1/assignments/assign")).to_be_visible()
    assert page.locator(".opblock").count() >= 30
    page.screenshot(path=SCREENSHOT.format(width=1280), full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(_operation(page, "GET", "/api/v1/me")).to_be_visible()
    page.screenshot(path=SCREENSHOT.format(width=390), full_page=False)
    # The page fixture fails the test on any console error, CSP refusal or script error.


def test_try_it_out_acts_with_the_authorized_token(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    token = _token(engine, book.lead)
    page.goto("/api/v1/docs")
    me = _operation(page, "GET", "/api/v1/me")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    # Without a token: a 401 that says what to do (not the browser's session, not a CSRF error).
    me.get_by_role("button", name="Execute").click()
    expect(_status(me)).to_have_text("401")
    expect(me.locator(".live-responses-table")).to_contain_text("API token")

    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux")
    bearer = dialog.locator("form").filter(has=page.locator("#auth-bearer-value"))
    bearer.locator("#auth-bearer-value").fill(token)
    bearer.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close", exact=True).first.click()
    me.get_by_role("button", name="Execute").click()
    expect(_status(me)).to_have_text("200")
    expect(me.locator(".live-responses-table")).to_contain_text(book.lead)


def test_a_signed_in_session_does_not_act_through_the_reference(page: Page, engine: Engine) -> None:
    """Try it out never sends the session cookie: a write without a token is a plain 401, not
    a CSRF refusal, and nothing is written as the signed-in user."""
    book = make_book(engine)
    sign_in(page, book.lead)
    page.goto("/api/v1/docs")
    create = _operation(page, "POST", "/api/v1/tokens")
    create.locator(".opblock-summary").click()
    create.get_by_role("button", name="Try it out").click()
    create.get_by_role("button", name="Execute").click()
    expect(_status(create)).to_have_text("401")
    expect(create.locator(".live-responses-table")).to_contain_text("sign in first")
