"""``read_users`` (one Core statement, for filters and listings) names the same users as
``get_users`` and refuses the same refs with the same messages."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from bookwise.errors import BookwiseError
from bookwise.users.service import cli_user, get_users, read_users
from tests.factories import make_user
from tests.helpers import count_statements

REFS = [
    ["ana@example.com"],
    ["ANA@EXAMPLE.COM", "Bob Stone"],
    ["  bob   STONE "],
    ["Ana Silva"],  # two users bear it
    ["Dee Lee", "dee@example.com"],
    ["Nobody", "who@example.com"],
    ["Grete Strauss"],
    ["CLI"],  # the built-in user's name names no-one
]


@pytest.mark.parametrize("refs", REFS)
def test_read_users_finds_and_refuses_as_get_users_does(
    session: Session, engine: Engine, refs: list[str]
) -> None:
    make_user(session, "ana@example.com", name="Ana Silva")
    make_user(session, "ana2@example.com", name="Ana Silva")
    make_user(session, "bob@example.com", name="Bob Stone")
    make_user(session, "dee@example.com", name="Dee Lee")
    make_user(session, "gs@example.com", name="Grete Strauß")
    cli_user(session)

    def outcome(find: object) -> object:
        try:
            return [(u.id, u.email, u.name, u.active) for u in find(session, refs)]  # type: ignore[operator]
        except BookwiseError as exc:
            return type(exc), exc.message

    expected = outcome(get_users)
    with count_statements(engine) as log:
        found = outcome(read_users)
    assert found == expected
    assert len(log.statements) == 1


def test_a_read_user_is_in_no_session(session: Session) -> None:
    make_user(session, "ana@example.com", name="Ana Silva")
    [user] = read_users(session, ["Ana Silva"])
    assert inspect(user).transient  # never flushed: it cannot be written back by mistake
    assert user not in session
