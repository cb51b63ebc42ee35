"""Nothing is cut off on any page, at 1280 px and at 390 px (issue 15).

Every page a person reaches (sign-in, the assignment page on each tab, accounts, an account,
segments, operations, users, my book, previews and results) is checked with
``layout.layout_problems``: no sideways page scroll, no clipped value, nothing sticking out
of its box, no table behind a scrollbar at desktop width.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.auth.service import set_password
from bookwise.db import write_session
from bookwise.http.web.columns import COLUMNS
from bookwise.models import Account
from bookwise.segments.service import create_segment
from bookwise.users.service import get_user
from tests.browser.book import PASSWORD, make_book, sign_in
from tests.browser.layout import layout_problems
from tests.factories import actor

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
SHOTS = Path("/tmp/layout")
MICHAEL = "/assignment?rep=michael%40example.com"


def _harder_book(engine: Engine) -> int:
    """Co-owners (a long CSMs cell on "Other CSMs"), long custom values, and a segment."""
    with write_session(engine) as session:
        assign_accounts(
            session,
            selection=AccountRefs(["STARK", "WAYNE"]),
            csms=[get_user(session, "ben@example.com"), get_user(session, "chloe@example.com")],
            actor=actor(session),
        )
        globex = session.scalars(select(Account).where(Account.external_id == "GLOBEX")).one()
        globex.custom = {
            "crm_record": "https://crm.example.com/records/0013000000GlobexHoldingsEMEA0042",
            "notes": "Renewal discussed with procurement; wants a quarterly business review",
        }
        segment = create_segment(
            session,
            name="Michael's parent companies",
            rule="csm is michael@example.com and company level is 1",
            description="The parents of the families Michael looks after",
            actor=actor(session),
        )
        return segment.id


def _check(page: Page, problems: dict[str, list[str]], label: str) -> None:
    """The page at each width; a full-page picture of each in /tmp/layout to look at."""
    SHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:80]
        page.screenshot(path=SHOTS / f"{slug}-{width}.png", full_page=True)
        found = layout_problems(page)
        if found:
            problems[f"{label} at {width}px"] = found
    page.set_viewport_size({"width": 1280, "height": 900})


def _visit(page: Page, problems: dict[str, list[str]], path: str) -> None:
    page.goto(path)
    _check(page, problems, path)


def test_no_page_clips_or_overflows_at_1280_and_390(page: Page, engine: Engine) -> None:
    book = make_book(engine)
    segment = _harder_book(engine)
    problems: dict[str, list[str]] = {}
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/login")
    _check(page, problems, "/login")
    page.get_by_label("Email").fill(book.lead)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _check(page, problems, "/login (refused)")
    sign_in(page, book.lead)

    for path in (
        "/assignment",
        MICHAEL,
        MICHAEL + "&who=others",
        MICHAEL + "&who=all",
        MICHAEL + "&who=all&where=tier%20%3D%203",
        MICHAEL + "&who=all&where=tier%20%3D",
        "/accounts",
        "/accounts/GLOBEX",
        "/accounts/GLOBEX-FR",
        "/segments",
        "/segments/new",
        f"/segments/{segment}",
        f"/segments/{segment}/edit",
        "/operations",
        "/users",
        "/my-book",
        "/attributes",
        "/roles",
        "/tokens",
        "/rules/fields",
        "/reports/team",
        "/reports/team?counting=split&where=tier%20%3D%201",
        "/reports/team?where=tier%20%3D",
    ):
        _visit(page, problems, path)

    # Every column chosen (14) is wider than 1280 px by choice: the table scrolls inside its
    # card (nothing is cut off, the page does not scroll), as every table does on a phone.
    page.goto("/accounts?cols=" + "&cols=".join(COLUMNS))
    page.set_viewport_size({"width": 390, "height": 900})
    if found := layout_problems(page):
        problems["/accounts with every column at 390px"] = found
    page.set_viewport_size({"width": 1280, "height": 900})

    # The pop-up, open.
    page.goto("/accounts")
    page.get_by_role("button", name="Assign reps…").click()
    _check(page, problems, "/accounts with Assign reps open")

    # A preview, its result, the undo's preview.
    flows: list[tuple[str, Callable[[], None]]] = []

    def assign() -> None:
        page.goto(MICHAEL)
        others = page.get_by_role("region", name="Accounts NOT assigned to Michael Chen")
        others.get_by_label("Select Initech").check()
        others.get_by_label("Select Hooli").check()
        others.get_by_role("button", name="Assign to Michael Chen").click()

    flows.append(("assign preview", assign))
    for label, go in flows:
        go()
        expect(page.get_by_text("2 accounts would change")).to_be_visible()
        _check(page, problems, label)
        page.get_by_role("button", name="Apply").click()
        expect(page.get_by_role("status")).to_contain_text("2 accounts changed")
        _check(page, problems, label.replace("preview", "result"))
        page.get_by_role("link", name="Undo…").click()
        expect(page.get_by_text("would change")).to_be_visible()
        _check(page, problems, label.replace("preview", "undo preview"))

    # My book as a CSM with a book.
    with write_session(engine) as session:
        michael = get_user(session, "michael@example.com")
        set_password(session, user=michael, password=PASSWORD, actor=actor(session))
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "michael@example.com")
    _visit(page, problems, "/my-book")

    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
