"""The account page's Changes card: an edit made on the page is shown there, by name."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.db import write_session
from tests.factories import make_account
from tests.http.conftest import SignedIn
from tests.http.web.page import Page


def _changes(page: Page) -> list[str]:
    card = page.root.find("section", aria_labelledby="changes-title")
    return [row.text() for row in card.find("tbody").find_all("tr")]


def test_an_edit_on_the_page_appears_in_the_changes_card(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        make_account(session, "Parent Co", external_id="P", region="AMER")
    manager = as_role("manager", email="mia@example.com")
    assert _changes(Page.of(manager.client.get("/accounts/P")))[0].endswith(
        "AMER bookwise CLI create"
    )
    form = Page.of(manager.client.get("/accounts/P/edit")).form("/accounts/P/edit")

    response = manager.client.post(
        "/accounts/P/edit", data=form.data(region="EMEA", mrr="99.5"), follow_redirects=False
    )

    assert response.status_code == 303
    rows = _changes(Page.of(manager.client.get("/accounts/P")))
    assert len(rows) == 3
    assert {rows[0], rows[1]} == {
        f"{rows[0][:16]} region AMER EMEA mia edit",
        f"{rows[0][:16]} mrr empty 99.50 mia edit",
    }
