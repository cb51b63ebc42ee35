"""The pages take a user's unique full name where they take an email."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.accounts.service import get_account
from bookwise.db import read_session, write_session
from tests.factories import make_account, make_user
from tests.helpers import open_csms
from tests.http.conftest import SignedIn
from tests.http.web.page import Page


def test_the_account_page_adds_a_csm_by_full_name(
    engine: Engine, as_role: Callable[..., SignedIn]
) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com", name="Ana Silva")
        make_user(session, "ana.b@example.com", name="Ana Silva Two")
        make_account(session, "Acme", external_id="ACME")
    lead = as_role("manager")
    page = Page.of(lead.client.get("/accounts/ACME"))

    form = page.form("/accounts/ACME/csms").data(csm="  ana silva ")
    added = Page.of(lead.client.post("/accounts/ACME/csms", data=form))

    assert added.status == 200
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "ACME")) == {"ana@example.com"}
