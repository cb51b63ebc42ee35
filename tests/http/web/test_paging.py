"""Page numbers on the pages: a number too large for any page is a 422 page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from bookwise.db import write_session
from bookwise.segments.service import create_segment
from bookwise.users.service import get_user
from tests.factories import actor, make_account, make_user
from tests.http.conftest import SignedIn

HUGE = [str(2**63 - 1), str(2**64), str(10**30), "0", "-1"]
MAX_PAGE_NUMBER = 1_000_000


def _world(engine: Engine) -> int:
    with write_session(engine) as session:
        make_user(session, "kim@example.com", name="Kim")
        make_account(session, "Parent", external_id="PARENT")
        return create_segment(session, name="Big", rule="mrr > 0", actor=actor(session)).id


def _urls(segment_id: int) -> list[tuple[str, str]]:
    """Every page that takes a page number, with the name of its parameter."""
    return [
        ("/accounts", "page"),
        ("/assignment", "page"),
        ("/assignment?rep=kim@example.com", "page"),
        ("/assignment?rep=kim@example.com", "book_page"),
        ("/accounts/PARENT", "children_page"),
        ("/accounts/PARENT", "history_page"),
        ("/my-book", "page"),
        ("/operations", "page"),
        (f"/segments/{segment_id}", "page"),
    ]


@pytest.mark.parametrize("number", HUGE)
def test_a_page_number_out_of_range_is_a_422_page(
    engine: Engine, as_role: Callable[..., SignedIn], number: str
) -> None:
    segment_id = _world(engine)
    viewer = as_role("viewer", csm_seat=True)
    for url, name in _urls(segment_id):
        joiner = "&" if "?" in url else "?"
        response = viewer.client.get(f"{url}{joiner}{name}={number}")
        assert response.status_code == 422, (url, name, response.status_code)
        assert response.headers["content-type"].startswith("text/html"), url
        assert name in response.text, url


def test_the_largest_page_number_answers_an_empty_page(
    engine: Engine, as_role: Callable[..., SignedIn]
) -> None:
    segment_id = _world(engine)
    viewer = as_role("viewer", csm_seat=True)
    for url, name in _urls(segment_id):
        joiner = "&" if "?" in url else "?"
        response = viewer.client.get(f"{url}{joiner}{name}={MAX_PAGE_NUMBER}")
        assert response.status_code == 200, (url, name, response.status_code)


@pytest.mark.parametrize("path", ["/accounts", "/assignment"])
def test_a_back_link_with_a_huge_page_falls_back_to_page_one(
    engine: Engine, as_role: Callable[..., SignedIn], path: str
) -> None:
    _world(engine)
    manager = as_role("manager")
    with write_session(engine) as session:
        kim = get_user(session, "kim@example.com")
        assert kim is not None
    # A preview refused (no CSM chosen) shows the page the form came from, at its page.
    response = manager.client.post(
        f"{path}/preview",
        data={
            "csrf_token": manager.csrf,
            "action": "assign",
            "refs": ["PARENT"],
            "back": f"{path}?page={2**63 - 1}",
        },
    )
    assert response.status_code < 500, response.status_code
