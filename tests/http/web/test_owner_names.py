"""People think in names: the owners column of the accounts list shows each CSM's name first
(issue 15), the email in a tooltip and to screen readers."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn
from tests.http.web.page import Page


def test_the_accounts_list_names_the_owners(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="Ana Silva")
        ben = make_user(session, "ben@example.com", name="Ben Okafor")
        make_account(session, "Acme", external_id="ACME")
        assign_accounts(
            session, selection=AccountRefs(["ACME"]), csms=[ana, ben], actor=actor(session)
        )
    listing = Page.of(as_role("viewer").client.get("/accounts"))
    owners = listing.root.find("table").find_all("span", class_="owner")
    assert [(o.attrs.get("title"), o.text()) for o in owners] == [
        ("ana@example.com", "Ana Silva (ana@example.com)"),
        ("ben@example.com", "Ben Okafor (ben@example.com)"),
    ]
