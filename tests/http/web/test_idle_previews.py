"""A web preview that would change nothing says so and offers no Apply button."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from tests.http.conftest import SignedIn
from tests.http.web.page import Page
from tests.http.web.test_assignment import BEN, make_team


def test_assigning_a_reps_own_accounts_to_them_previews_as_nothing(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    make_team(engine)  # Ben owns B1 and B2
    lead = as_role("manager")
    chosen = Page.of(lead.client.get("/assignment", params={"rep": BEN}))
    form = chosen.form("/assignment/preview", index=1)  # the accounts not his

    preview = Page.of(
        lead.client.post("/assignment/preview", data=form.data(action="assign", refs=["B1"]))
    )

    assert preview.status == 200
    assert "Nothing would change" in preview.text()
    assert "would change." not in preview.text().replace("Nothing would change", "")
    assert "Apply" not in preview.buttons()
    assert "Fingerprint" not in preview.text()
