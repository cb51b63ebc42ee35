"""Each page sends as many SQL statements for 300 accounts as for 10: pages never loop."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from bookwise.assignments.selection import AccountQuery
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.models import Account
from bookwise.segments.service import create_segment
from bookwise.users.service import get_user
from tests.factories import actor, make_family_tree, make_user
from tests.helpers import count_statements
from tests.http.conftest import SignedIn

CSM = "csm@example.com"


def grow(engine: Engine, parents: int, prefix: str) -> None:
    """``parents`` families of three; the CSM owns every other parent (children follow)."""
    with write_session(engine) as session:
        tops, _ = make_family_tree(session, parents=parents, children_each=2, prefix=prefix)
        owned = [t.id for t in tops[::2]]
        assign_accounts(
            session,
            selection=AccountQuery(
                ids=select(Account.id).where(Account.id.in_(owned)), description="test"
            ),
            csms=[get_user(session, CSM)],
            actor=actor(session),
        )


def statements(engine: Engine, signed: SignedIn, urls: list[str]) -> dict[str, int]:
    """Statements per page (each page asked once before, so nothing is counted cold)."""
    counts = {}
    for url in urls:
        assert signed.client.get(url).status_code == 200, url
        with count_statements(engine) as log:
            signed.client.get(url)
        counts[url] = log.count
    return counts


def test_pages_send_a_fixed_number_of_statements(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    with write_session(engine) as session:
        make_user(session, CSM)
        segment = create_segment(session, name="Tops", rule="depth = 0", actor=actor(session))
        segment_id = segment.id
    grow(engine, 3, "S")
    signed = as_role("admin", csm_seat=True)
    urls = [
        "/assignment",
        f"/assignment?rep={CSM}",
        f"/assignment?rep={CSM}&who=others",
        f"/assignment?rep={CSM}&who=all&where=depth+%3D+0",
        "/accounts",
        "/accounts?where=csm+is+empty&sort=-mrr",
        "/accounts/SP0",
        f"/segments/{segment_id}",
        "/segments",
        "/operations",
        "/users",
        "/my-book",
    ]
    small = statements(engine, signed, urls)
    grow(engine, 100, "L")
    assert statements(engine, signed, urls) == small
