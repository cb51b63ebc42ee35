"""The account page reads its ownership timeline once, a page at a time, newest first."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.db import write_session
from bookwise.http.web.common import PAGE_SIZE
from tests.factories import actor, make_account, make_user
from tests.helpers import count_statements
from tests.http.conftest import SignedIn
from tests.http.web.page import Page


def test_the_timeline_is_read_once_and_paged(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    rounds = PAGE_SIZE + 5  # one closed row a round: more rows than one page holds
    with write_session(engine) as session:
        me = actor(session)
        parent = make_account(session, "Parent", external_id="P")
        make_account(session, "Child", external_id="C", parent=parent)
        ana = make_user(session, "ana@example.com", name="Ana Silva")
        ben = make_user(session, "ben@example.com", name="Ben Okafor")
        assign_accounts(session, selection=AccountRefs(["P"]), csms=[ben], actor=me)
        for n in range(rounds):
            assign_accounts(
                session, selection=AccountRefs(["C"]), csms=[ana], actor=me, reason=f"r{n}"
            )
            unassign_accounts(session, selection=AccountRefs(["C"]), csm=ana, actor=me)
        assign_accounts(session, selection=AccountRefs(["C"]), csms=[ana], actor=me)
    viewer = as_role("viewer")
    with count_statements(engine) as log:
        first = Page.of(viewer.client.get("/accounts/C"))
    assert first.status == 200
    timeline = first.root.find("section", aria_labelledby="timeline-title")
    rows = timeline.find("tbody").find_all("tr")
    assert len(rows) == PAGE_SIZE
    assert "current" in rows[0].text()  # newest first
    total = rounds + 1
    assert f"1–{PAGE_SIZE} of {total}" in timeline.find("nav", class_="pager").text()
    # Every read of assignment rows with their actor is the timeline: one page and its count
    # (it was read in full three times: the page, the owners, the parent's owners).
    full_reads = [
        s for s in log.statements if "AS actor" in s and "LIMIT" not in s and "count(" not in s
    ]
    assert full_reads == [s for s in full_reads if "ended_at IS NULL" in s]
    assert len([s for s in log.statements if "AS actor" in s and "LIMIT" in s]) == 1
    owners = first.root.find("section", aria_labelledby="owners-title").text()
    assert owners.index("Ana Silva") < owners.index("ana@example.com")  # name first
    hierarchy = first.root.find("section", aria_labelledby="hierarchy-title")
    assert "Ben Okafor" in hierarchy.text()
    assert hierarchy.find("span", title="ben@example.com") is not None  # the email kept

    second = Page.of(viewer.client.get(timeline.find("a", rel="next").attrs["href"]))
    rest = second.root.find("section", aria_labelledby="timeline-title").find("tbody")
    assert len(rest.find_all("tr")) == total - PAGE_SIZE
