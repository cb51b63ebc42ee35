"""Import and export as a person does them in a browser: choose a file, read the preview (the
mapping, the owner warning, the counts, the first problems), map the owner column, import,
download the problems; Download CSV from the accounts list. At 1280 and 390 px nothing is cut
off; screenshots go to /tmp/bookwise-import-*.png for a person to look at."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from bookwise.db import read_session
from bookwise.models import Account
from tests.browser.book import make_book, sign_in
from tests.browser.layout import layout_problems

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)
FILE = (
    "Account ID,Account Name,MRR,Account Manager,Notes\n"
    "NEW-1,Northwind Traders,1200,michael@example.com,first\n"
    "NEW-2,Contoso,12;5,ana@example.com,a bad amount\n"
    "NEW-3,Fabrikam Fiber Holdings International,300,ana@example.com,\n"
)


def _look(page: Page, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert layout_problems(page) == [], f"{name} at {width} px"
        page.screenshot(path=f"/tmp/bookwise-import-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_upload_preview_map_the_owners_import_and_download(
    page: Page, engine: Engine, tmp_path: Path
) -> None:
    book = make_book(engine)
    upload = tmp_path / "crm-export.csv"
    upload.write_text(FILE)
    sign_in(page, book.lead)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import a CSV file")).to_be_visible()
    _look(page, "form")
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name=re.compile("Preview: import accounts"))).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("owners unchanged: no owner column")
    expect(alert).to_contain_text("Account Manager=csms")
    expect(page.get_by_text("Nothing has been imported yet")).to_be_visible()
    _look(page, "preview")

    # Map the owner column as the warning says; the preview follows.
    page.get_by_label("Column mapping (accounts)").fill("Account Manager=csms")
    page.get_by_role("button", name="Preview again").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.reload()  # a refresh shows the preview again and imports nothing
    with read_session(engine) as session:
        assert session.scalar(select(Account).where(Account.external_id == "NEW-1")) is None

    with page.expect_download() as problems:
        page.get_by_role("link", name="Download every problem (CSV)").click()
    rows = list(csv.reader(problems.value.path().read_text().splitlines()))
    assert rows[1][:3] == ["3", "MRR", "12;5"]

    page.get_by_role("button", name="Import this file").click()
    expect(page.get_by_role("heading", name=re.compile("Imported accounts"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("2 created")
    _look(page, "result")
    page.reload()  # post/redirect/get: a refresh is the result again, not a second import
    expect(page.get_by_role("status")).to_contain_text("2 created")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_label("Filter (a rule)").fill('external_id in ("NEW-1", "NEW-3")')
    page.get_by_role("button", name="Apply filter").click()
    with page.expect_download() as exported:
        page.get_by_role("link", name="Download CSV").click()
    lines = exported.value.path().read_text().splitlines()
    names = [row[1] for row in csv.reader(lines[2:])]
    assert sorted(names) == ["Fabrikam Fiber Holdings International", "Northwind Traders"]
    _look(page, "accounts")
