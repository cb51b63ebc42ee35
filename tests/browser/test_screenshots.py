"""The README's screenshots: each page at 1280x800, taken from the fixed book in book.py.

On SQLite they are written to docs/screenshots/ (only when a picture changed, so a run
without a visible change leaves the files alone); on PostgreSQL the same pages are shot into
a temporary folder, so both legs check that every page renders. Clock times on the pages
are pinned to one value before each shot: they are the only thing that differs between
runs. Regenerate with `.venv/bin/pytest tests/browser/test_screenshots.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.browser.book import make_book, sign_in
from tests.conftest import PG_URL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
PINNED_TIME = "2026-11-02 09:30"
# Times as the pages print them (the `when` filter: UTC, to the minute).
PIN_TIMES = r"""(pinned) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const time = /\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?\b/g;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (time.test(node.nodeValue)) node.nodeValue = node.nodeValue.replace(time, pinned);
  }
}"""
# (file name, what it shows): the README lists them in this order.
PICTURES = (
    ("sign-in.png", "Sign in"),
    ("assignment.png", "Account assignment, with a rep chosen"),
    ("preview.png", "The preview of a bulk assign, before Apply"),
    ("accounts-assign-reps.png", "Accounts list, with the Assign reps pop-up open"),
    ("account.png", "An account's page"),
    ("segment-edit.png", "Editing a segment, with its preview"),
    ("operations.png", "Operations, each with Undo"),
    ("users.png", "Users (admin)"),
)


def shoot(page: Page, name: str, folder: Path) -> None:
    """Save the viewport as ``folder/name``; leave the file alone if the picture is the same."""
    assert name in dict(PICTURES), f"{name} is not listed in PICTURES (and the README)"
    page.evaluate(PIN_TIMES, PINNED_TIME)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    picture = page.screenshot(animations="disabled", caret="hide")
    target = folder / name
    if not target.exists() or target.read_bytes() != picture:
        target.write_bytes(picture)


def test_screenshots_of_every_page(
    page: Page, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = SHOTS if not PG_URL else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    book = make_book(engine)

    page.goto("/login")
    page.get_by_label("Email").fill(book.lead)
    shoot(page, "sign-in.png", folder)
    sign_in(page, book.lead)

    page.goto("/assignment?rep=michael%40example.com")
    michael = book.csm_name("michael")
    others = page.get_by_role("region", name=f"Accounts NOT assigned to {michael}")
    others.get_by_label("Select Initech").check()
    others.get_by_label("Select Hooli").check()
    shoot(page, "assignment.png", folder)

    others.get_by_role("button", name=f"Assign to {michael}").click()
    expect(page.get_by_text("2 accounts would change")).to_be_visible()
    shoot(page, "preview.png", folder)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("2 accounts changed")

    page.goto("/accounts?sort=-mrr")
    listing = page.get_by_role("table", name="Accounts")
    listing.get_by_label("Select Hooli").check()
    listing.get_by_label("Select Acme Corp").check()
    page.get_by_role("button", name="Assign reps…").click()
    pop_up = page.get_by_role("dialog", name="Assign reps")
    pop_up.get_by_label(book.csm_name("ana")).check()
    pop_up.get_by_label(book.csm_name("chloe")).check()
    shoot(page, "accounts-assign-reps.png", folder)

    page.goto("/accounts/GLOBEX")
    expect(page.get_by_role("heading", name="Globex Holdings")).to_be_visible()
    shoot(page, "account.png", folder)

    page.goto("/segments/new")
    page.get_by_label("Name").fill("Michael's parent companies")
    page.get_by_label("Rule").fill("csm is michael@example.com and company level is 1")
    page.get_by_role("button", name="Save").click()
    page.goto("/segments/new")
    page.get_by_label("Name").fill("Michael's children companies")
    page.get_by_label("Rule").fill(
        "company level is 0 and parent company is in segment “michael’s parent companies”"
    )
    page.get_by_role("button", name="Save").click()
    page.goto("/segments")
    page.get_by_role("link", name="Edit Michael's children companies").click()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview: 3 matching accounts")).to_be_visible()
    expect(page.locator("#rule-status")).to_contain_text("3 matching")
    shoot(page, "segment-edit.png", folder)

    page.goto("/operations")
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    shoot(page, "operations.png", folder)

    page.goto("/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    shoot(page, "users.png", folder)

    names = {path.name for path in folder.glob("*.png")}
    assert {name for name, _ in PICTURES} <= names


def test_the_readme_shows_every_screenshot() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Screenshots", 1)[-1].split("\n## ", 1)[0]
    shown = re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)\s]+)\)", section)
    assert shown == [f"docs/screenshots/{name}" for name, _ in PICTURES]
