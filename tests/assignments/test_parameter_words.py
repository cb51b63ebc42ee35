"""An operation's parameters in words: people by name first (their email beside), accounts by
name, and a stored filter's emails read as their users except inside a rule's quotes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from bookwise.assignments.history import parameter_names, parameter_words
from bookwise.assignments.schemas import OperationOut
from bookwise.db import read_session, write_session
from tests.factories import make_account, make_user


def operation(**parameters: object) -> OperationOut:
    return OperationOut(
        id=7,
        kind="transfer",
        actor="cli@bookwise.invalid",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        accounts_changed=1,
        counts={},
        parameters=parameters,
        undoes=None,
        undone_by=None,
    )


def test_people_and_accounts_are_named_and_a_filter_keeps_its_rule_text(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com", name="Ana Lima")
        make_user(session, "ben@example.com", name="Ben Ode")
        parent = make_account(session, "Acme Holding", external_id="P1").id
    moved = operation(
        **{"from": "ana@example.com", "to": ["Ben@example.com"], "new_parent_id": parent},
        filter='assigned to ana@example.com and csm = "ben@example.com"',
    )
    with read_session(engine) as session:
        names = parameter_names(session, [moved])
    words = parameter_words(moved, names)
    assert "from Ana Lima (ana@example.com)" in words
    assert "to Ben Ode (Ben@example.com)" in words  # emails match whatever their case
    assert f"now under Acme Holding (#{parent})" in words
    # The filter's own words name Ana; the rule inside quotes stays as it was written.
    assert 'selection: assigned to Ana Lima (ana@example.com) and csm = "ben@example.com"' in words
    # Without names (or for an unknown email) the words are the stored values.
    assert "from ana@example.com" in parameter_words(moved)
    assert "to nobody@example.com" in parameter_words(operation(to="nobody@example.com"), names)
