"""The catalog a rule is compiled against: saved segments are read on every call (two small
Core statements with the users a rule names) and only their parsing is kept, keyed by the
segment's id, name and stored rule JSON, so an edit committed elsewhere is never missed."""

from __future__ import annotations

from sqlalchemy import Engine

from bookwise.db import read_session, write_session
from bookwise.segments.rules import compile_where, load_catalog
from bookwise.segments.selection import AccountFilter, list_selected
from bookwise.segments.service import create_segment, delete_segment, update_segment
from bookwise.users.service import cli_user
from tests.factories import make_account, make_user
from tests.helpers import count_statements

RULE = 'is_child and parent in segment "cached parents"'


def _names(engine: Engine) -> list[str]:
    with read_session(engine) as session:
        page, _ = list_selected(session, AccountFilter(where=RULE))
        return [row.name for row in page.items]


def test_a_segment_edited_or_replaced_in_another_transaction_is_read_afresh(
    engine: Engine,
) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana-cat@example.com", name="Ana Cat")
        make_user(session, "bo-cat@example.com", name="Bo Cat")
        big = make_account(session, "cat big", external_id="CAT1", tier=1)
        small = make_account(session, "cat small", external_id="CAT2", tier=3)
        make_account(session, "cat big child", external_id="CAT1c", parent=big)
        make_account(session, "cat small child", external_id="CAT2c", parent=small)
        create_segment(session, name="cached parents", rule="tier = 1", actor=cli_user(session))
        assert ana.id
    assert _names(engine) == ["cat big child"]
    assert _names(engine) == ["cat big child"]  # kept parse, same answer

    with write_session(engine) as session:
        update_segment(session, name="cached parents", rule="tier = 3", actor=cli_user(session))
    assert _names(engine) == ["cat small child"]  # the edit, not the kept parse

    with write_session(engine) as session:
        delete_segment(session, name="cached parents", actor=cli_user(session))
        create_segment(session, name="cached parents", rule="tier >= 1", actor=cli_user(session))
    assert _names(engine) == ["cat big child", "cat small child"]  # a new segment, same name


def test_a_saved_rule_is_parsed_once_and_the_catalog_is_two_statements(
    engine: Engine,
) -> None:
    with write_session(engine) as session:
        make_user(session, "dee-cat@example.com", name="Dee Cat")
        create_segment(
            session, name="cached parents", rule='csm = "Dee Cat"', actor=cli_user(session)
        )
    with read_session(engine) as session:
        compile_where(session, RULE)  # warm
        first = load_catalog(session, [compile_where(session, RULE).rule])
        with count_statements(engine) as log:
            again = load_catalog(session, [compile_where(session, RULE).rule])
        # compile_where's catalog and load_catalog's: segments and the named users, twice.
        assert len(log.statements) == 4, log.statements
        assert again.segments["cached parents"] is first.segments["cached parents"]
        # The saved rule names the user by email (segments store the canonical text).
        assert [u.name for u in again.users["dee-cat@example.com"]] == ["Dee Cat"]
