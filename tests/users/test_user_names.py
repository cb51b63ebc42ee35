"""Users named by their unique full name wherever an email is accepted, and CRM user ids."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bookwise.errors import InvalidInput, NotFound
from bookwise.users.service import build_user, cli_user, create_user, get_user, get_users
from tests.cli.conftest import Cli
from tests.factories import make_user


def test_a_unique_full_name_finds_its_user(session: Session) -> None:
    ana = make_user(session, "ana@example.com", name="Ana Silva")
    make_user(session, "bob@example.com", name="Bob Stone")

    assert get_user(session, "Ana Silva") is ana
    assert get_user(session, "  ana   SILVA ") is ana  # without regard to case or spacing
    assert get_user(session, "ana@example.com") is ana


def test_names_fold_like_emails_do(session: Session) -> None:
    user = make_user(session, "gs@example.com", name="Grete Strauß")
    assert get_user(session, "GRETE STRAUSS") is user


def test_an_ambiguous_name_lists_the_candidates(session: Session) -> None:
    make_user(session, "ana.b@example.com", name="Ana Silva")
    make_user(session, "ana.a@example.com", name="Ana Silva")

    with pytest.raises(InvalidInput) as raised:
        get_user(session, "ana silva")

    assert raised.value.message == (
        "'ana silva' is the name of several users (ana.a@example.com, ana.b@example.com); "
        "use an email"
    )


def test_an_unknown_name_or_email_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound) as unknown_name:
        get_user(session, "Nobody Here")
    assert unknown_name.value.message == "no user with email or name 'Nobody Here'"
    with pytest.raises(NotFound) as unknown_email:
        get_user(session, "who@example.com")
    assert unknown_email.value.message == "no user with email who@example.com"


def test_the_built_in_user_is_not_named_by_its_name(session: Session) -> None:
    assert cli_user(session).name
    with pytest.raises(NotFound):
        get_user(session, cli_user(session).name)


def test_get_users_mixes_emails_and_names_in_order(session: Session) -> None:
    ana = make_user(session, "ana@example.com", name="Ana Silva")
    bob = make_user(session, "bob@example.com", name="Bob Stone")

    assert get_users(session, ["Bob Stone", "ana@example.com", "ANA SILVA"]) == [bob, ana, ana]
    with pytest.raises(NotFound, match="no user with email or name 'Cid', 'Dee'"):
        get_users(session, ["Cid", "bob@example.com", "Dee"])
    make_user(session, "ana2@example.com", name="Ana Silva")
    with pytest.raises(InvalidInput, match="is the name of several users"):
        get_users(session, ["Ana Silva"])


def test_the_cli_assigns_to_a_name(cli: Cli) -> None:
    cli.ok(
        "users", "add", "ana@example.com", "--name", "Ana Silva", "--csm-seat", "--role", "manager"
    )
    cli.account("A1")

    cli.ok("assign", "A1", "--to", "Ana Silva")

    assert cli.owners("A1") == ["ana@example.com"]


# --- defect 5: Salesforce user ids are stored in their 18-character form -------------------


def test_a_15_character_salesforce_user_id_is_stored_in_18_characters(session: Session) -> None:
    data = build_user(email="ana@example.com", external_id="005Hs00000ABCde")
    user = create_user(session, data=data, actor=cli_user(session))
    assert user.external_id == "005Hs00000ABCdeIAH"


def test_other_external_ids_are_stored_as_typed(session: Session) -> None:
    data = build_user(email="ana@example.com", external_id="12345")
    assert create_user(session, data=data, actor=cli_user(session)).external_id == "12345"
