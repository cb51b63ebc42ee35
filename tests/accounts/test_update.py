"""update_account: fields validated as on create, custom attributes merged, one audit event."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.accounts.service import (
    declare_attribute,
    find_account_by_name,
    update_account,
)
from bookwise.errors import Conflict, InvalidInput, NotFound
from bookwise.models import AuditEvent
from tests.factories import actor, make_account


def _events(session: Session) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "account.updated")
    return list(session.scalars(query))


def test_fields_change_as_on_create_and_are_audited(session: Session) -> None:
    me = actor(session)
    declare_attribute(session, name="plan", type="choice", choices=["Gold", "Silver"], actor=me)
    declare_attribute(session, name="seats", type="number", actor=me)
    account = make_account(session, "Acme", external_id="ACME", region="EMEA", tier=2)
    update_account(session, account=account, changes={}, custom={"seats": "10"}, actor=me)

    changed = update_account(
        session,
        account=account,
        changes={"name": "Acme Corp", "mrr": "1,250.50", "tier": "Tier 1", "region": ""},
        custom={"plan": "gold", "seats": ""},
        actor=me,
    )

    assert (account.name, account.name_fold) == ("Acme Corp", "acme corp")
    assert (account.mrr, account.tier, account.region) == (125050, 1, None)
    assert account.custom == {"plan": "Gold"}  # the blank removed seats
    assert set(changed) == {"name", "mrr", "tier", "region", "custom"}
    event = _events(session)[-1]
    assert event.details["mrr"] == 125050
    assert event.details["custom"] == {"plan": "Gold", "seats": None}


def test_an_edit_that_changes_nothing_writes_no_event(session: Session) -> None:
    me = actor(session)
    account = make_account(session, "Acme", external_id="ACME", renewal_date="2027-01-31")
    changed = update_account(
        session,
        account=account,
        changes={"name": " Acme ", "renewal_date": "2027-01-31"},
        actor=me,
    )
    assert changed == {}
    assert account.renewal_date == date(2027, 1, 31)
    assert _events(session) == []


def test_bad_values_are_refused_and_nothing_changes(session: Session) -> None:
    me = actor(session)
    account = make_account(session, "Acme", external_id="ACME")
    make_account(session, "Other", external_id="OTHER")
    with pytest.raises(InvalidInput, match="health_score"):
        update_account(session, account=account, changes={"health_score": "140"}, actor=me)
    with pytest.raises(InvalidInput, match="name"):
        update_account(session, account=account, changes={"name": " "}, actor=me)
    with pytest.raises(InvalidInput, match="cannot edit inherit_policy"):
        update_account(session, account=account, changes={"inherit_policy": "own"}, actor=me)
    with pytest.raises(Conflict, match="OTHER"):
        update_account(session, account=account, changes={"external_id": "OTHER"}, actor=me)
    with pytest.raises(InvalidInput, match=r"custom\.nope"):
        update_account(session, account=account, changes={}, custom={"nope": "1"}, actor=me)
    assert (account.name, account.external_id, account.health_score) == ("Acme", "ACME", None)


def test_an_account_is_found_by_external_id_id_or_unique_name(session: Session) -> None:
    acme = make_account(session, "Acme Corp", external_id="ACME")
    make_account(session, "Twin", external_id="T1")
    make_account(session, "twin", external_id="T2")
    assert find_account_by_name(session, "ACME") is acme
    assert find_account_by_name(session, f"#{acme.id}") is acme
    assert find_account_by_name(session, "  acme CORP ") is acme
    with pytest.raises(InvalidInput, match=r"2 accounts are named 'Twin' \(T1, T2\)"):
        find_account_by_name(session, "Twin")
    with pytest.raises(NotFound):
        find_account_by_name(session, "Nobody")


def test_a_blank_mrr_clears_it_like_every_other_field(session: Session) -> None:
    account = make_account(session, "Acme", external_id="ACME", mrr="5000")
    update_account(session, account=account, changes={"mrr": "  "}, actor=actor(session))
    assert account.mrr is None
