"""Importing users in a browser (issue 15): an admin chooses Users, reads the dry run (the
mapping, the problem by line), imports, and downloads the problems; nothing cut off at 1280
and 390 px (screenshots in /tmp/bookwise-import-users-*.png)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from bookwise.db import read_session
from bookwise.models import User
from tests.browser.book import make_book, sign_in
from tests.browser.test_import_flow import _look

pytestmark = pytest.mark.browser
FILE = (
    "Email,Full Name,Role,CSM Seat,Team\n"
    "grace@example.com,Grace Hopper,manager,yes,EMEA\n"
    "alan@example.com,Alan Turing,boss,no,EMEA\n"
)


def _role(engine: Engine, email: str) -> str | None:
    with read_session(engine) as session:
        return session.scalar(select(User.role).where(User.email == email))


def test_an_admin_previews_then_imports_users(page: Page, engine: Engine, tmp_path: Path) -> None:
    book = make_book(engine)  # its lead is an admin
    upload = tmp_path / "team.csv"
    upload.write_text(FILE)
    sign_in(page, book.lead)
    page.goto("/import")
    page.get_by_label("Users (by email)").check()
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name=re.compile("Preview: import users"))).to_be_visible()
    mapping = page.get_by_role("table", name="Which column feeds which field")
    expect(mapping.get_by_role("row", name=re.compile("Full Name name"))).to_be_visible()
    expect(mapping.get_by_role("row", name=re.compile("Team ignored"))).to_be_visible()
    expect(page.get_by_text("'boss' is not admin, manager or viewer")).to_be_visible()
    assert _role(engine, "grace@example.com") is None  # the preview imports nothing
    _look(page, "users-preview")

    page.get_by_role("button", name="Import this file").click()
    expect(page.get_by_role("heading", name=re.compile("Imported users"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 created")
    _look(page, "users-result")
    assert _role(engine, "grace@example.com") == "manager"
    assert _role(engine, "alan@example.com") is None
    with page.expect_download() as problems:
        page.get_by_role("link", name=re.compile("problem")).first.click()
    rows = list(csv.reader(problems.value.path().read_text().splitlines()))
    assert rows[1][:3] == ["3", "Role", "boss"]
