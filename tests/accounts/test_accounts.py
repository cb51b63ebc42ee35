"""Accounts: validated fields, custom attributes, hierarchy derivations."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bookwise.accounts.service import (
    build_fields,
    children,
    create_account,
    declare_attribute,
    get_account,
    is_parent,
    list_attributes,
    validate_custom_values,
)
from bookwise.errors import Conflict, InvalidInput, NotFound
from bookwise.users.service import cli_user
from tests.factories import make_account


def test_fields_are_validated_and_normalised() -> None:
    fields = build_fields(
        name="  Acme  ",
        mrr="1,797.19",
        tier="Tier 1",
        lifecycle_stage="Onboarding",
        health_score="55",
        renewal_date="2027-01-31",
        region="",
    )
    assert fields.name == "Acme"
    assert fields.mrr == 179719
    assert fields.tier == 1
    assert fields.lifecycle_stage == "onboarding"
    assert fields.health_score == 55
    assert fields.renewal_date == date(2027, 1, 31)
    assert fields.region is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("health_score", 101, "health_score"),
        ("nps", -101, "nps"),
        ("csm_rating", 6, "csm_rating"),
        ("mrr", "abc", "mrr: 'abc' is not an amount of money"),
        ("mrr", "1.001", "more than 2 decimals"),
        ("tier", "gold", "is not a tier"),
        ("renewal_date", "31/01/2027", "renewal_date"),
        ("colour", "red", "colour"),
    ],
)
def test_bad_values_name_the_field_and_the_reason(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_fields(name="Acme", **{field: value})


def test_external_ids_are_unique(session: Session) -> None:
    make_account(session, external_id="X1")
    with pytest.raises(Conflict, match="X1"):
        make_account(session, external_id="X1")


def test_accounts_are_found_by_external_id_then_id(session: Session) -> None:
    account = make_account(session, external_id="X1")
    assert get_account(session, "X1") is account
    assert get_account(session, str(account.id)) is account
    assert get_account(session, account.id) is account
    assert get_account(session, f"#{account.id}") is account
    with pytest.raises(NotFound, match="'nope'"):
        get_account(session, "nope")


def test_hierarchy_is_derived(session: Session) -> None:
    parent = make_account(session)
    child = make_account(session, parent=parent)
    grandchild = make_account(session, parent=child)
    assert (parent.depth, child.depth, grandchild.depth) == (0, 1, 2)
    assert is_parent(session, parent)
    assert is_parent(session, child)
    assert not is_parent(session, grandchild)
    assert children(session, parent) == [child]


def test_custom_attributes_are_typed(session: Session) -> None:
    declare_attribute(
        session,
        name="industry",
        type="choice",
        choices=["Fintech", "Retail"],
        actor=cli_user(session),
    )
    declare_attribute(session, name="seats", type="number", actor=cli_user(session))
    declare_attribute(session, name="budget", type="money", actor=cli_user(session))
    declare_attribute(session, name="signed", type="date", actor=cli_user(session))
    declare_attribute(session, name="strategic", type="boolean", actor=cli_user(session))
    declare_attribute(session, name="notes", type="text", actor=cli_user(session))
    values = validate_custom_values(
        session,
        {
            "industry": "fintech",
            "seats": "1,200",
            "budget": "99.95",
            "signed": "2026-05-01",
            "strategic": "yes",
            "notes": " keep ",
        },
    )
    assert values == {
        "industry": "Fintech",
        "seats": 1200,
        "budget": 9995,
        "signed": "2026-05-01",
        "strategic": True,
        "notes": " keep ",
    }
    assert [a.name for a in list_attributes(session)] == [
        "budget",
        "industry",
        "notes",
        "seats",
        "signed",
        "strategic",
    ]
    account = create_account(
        session,
        fields=build_fields(name="Acme"),
        custom={"industry": "Retail", "seats": ""},
        actor=cli_user(session),
    )
    assert account.custom == {"industry": "Retail", "seats": None}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"industry": "Mining"}, "custom.industry: 'Mining' is not one of Fintech, Retail"),
        ({"seats": "many"}, "custom.seats: 'many' is not a number"),
        ({"signed": "soon"}, "custom.signed: 'soon' is not a date"),
        ({"strategic": "perhaps"}, "custom.strategic: 'perhaps' is not true or false"),
        ({"colour": "red"}, "custom.colour: no such custom attribute"),
    ],
)
def test_bad_custom_values_are_refused(
    session: Session, values: dict[str, str], message: str
) -> None:
    declare_attribute(
        session,
        name="industry",
        type="choice",
        choices=["Fintech", "Retail"],
        actor=cli_user(session),
    )
    declare_attribute(session, name="seats", type="number", actor=cli_user(session))
    declare_attribute(session, name="signed", type="date", actor=cli_user(session))
    declare_attribute(session, name="strategic", type="boolean", actor=cli_user(session))
    with pytest.raises(InvalidInput, match=message):
        validate_custom_values(session, values)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "bad name", "type": "text"}, InvalidInput, "must be a letter"),
        ({"name": "x", "type": "colour"}, InvalidInput, "not one of"),
        ({"name": "x", "type": "choice"}, InvalidInput, "choices are required"),
        ({"name": "x", "type": "text", "choices": ["a"]}, InvalidInput, "only for one"),
    ],
)
def test_bad_attribute_declarations(
    session: Session, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        declare_attribute(session, **kwargs, actor=cli_user(session))  # type: ignore[arg-type]


def test_an_attribute_is_declared_once(session: Session) -> None:
    declare_attribute(session, name="industry", type="text", actor=cli_user(session))
    with pytest.raises(Conflict):
        declare_attribute(session, name="industry", type="number", actor=cli_user(session))
