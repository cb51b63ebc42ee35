"""What each operator does with an empty value, field type by field type, as one table each.

Every table has accounts whose value is present and matching, present and not matching, and
empty. The documented semantics: ``=, <, <=, >, >=, in, between, contains, starts with``
never match an empty value; ``!=`` and ``not in`` are exactly ``not (=)`` and ``not (in)``, so
they do; ``is empty`` / ``is not empty`` are exact; ``not R`` is the exact complement of R.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bookwise.accounts.service import build_fields, create_account, declare_attribute
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.models import Account
from bookwise.segments.rules import compile_where
from tests.factories import actor, make_account, make_user

NUMBER = {  # match: 80, other: 20
    "health_score = 80": {"match"},
    "health_score != 80": {"other", "empty"},
    "health_score > 50": {"match"},
    "health_score >= 80": {"match"},
    "health_score < 50": {"other"},
    "health_score <= 20": {"other"},
    "health_score in (80, 90)": {"match"},
    "health_score not in (80, 90)": {"other", "empty"},
    "health_score between 70 and 90": {"match"},
    "health_score is empty": {"empty"},
    "health_score is not empty": {"match", "other"},
}
TEXT = {  # match: "EMEA", other: "APAC"; compared without regard to case
    'region = "emea"': {"match"},
    'region != "emea"': {"other", "empty"},
    'region in ("Emea", "LATAM")': {"match"},
    'region not in ("Emea", "LATAM")': {"other", "empty"},
    'region contains "me"': {"match"},
    'region starts with "EM"': {"match"},
    'not region contains "me"': {"other", "empty"},
    "region is empty": {"empty"},
    "region is not empty": {"match", "other"},
}
DATE = {  # match: 2026-06-30, other: 2026-01-15
    "renewal_date = 2026-06-30": {"match"},
    "renewal_date != 2026-06-30": {"other", "empty"},
    "renewal_date > 2026-03-01": {"match"},
    "renewal_date >= 2026-06-30": {"match"},
    "renewal_date < 2026-03-01": {"other"},
    "renewal_date <= 2026-01-15": {"other"},
    "renewal_date between 2026-06-01 and 2026-07-01": {"match"},
    "renewal_date is empty": {"empty"},
    "renewal_date is not empty": {"match", "other"},
}
CUSTOM = {  # custom.seats (number) match: 25, other: 3; empty: key absent and key cleared
    "custom.seats = 25": {"match"},
    "custom.seats != 25": {"other", "empty"},
    "custom.seats > 10": {"match"},
    "custom.seats < 10": {"other"},
    "custom.seats in (25, 26)": {"match"},
    "custom.seats not in (25, 26)": {"other", "empty"},
    "custom.seats between 20 and 30": {"match"},
    "custom.seats is empty": {"empty"},
    "custom.seats is not empty": {"match", "other"},
}
OWNER = {  # match: owned by ann; other: by bob; empty: no-one, or only cy (inactive, kept)
    "csm = ann@example.com": {"match"},
    "csm != ann@example.com": {"other", "empty"},
    "csm in (ann@example.com, dee@example.com)": {"match"},
    "csm not in (ann@example.com, dee@example.com)": {"other", "empty"},
    "csm is empty": {"empty"},
    "csm is not empty": {"match", "other"},
    "csm count = 0": {"empty"},
    "csm count >= 1": {"match", "other"},
}

Labels = dict[int, str]


def numbers(session: Session) -> Labels:
    return {
        make_account(session, health_score=80).id: "match",
        make_account(session, health_score=20).id: "other",
        make_account(session).id: "empty",
    }


def texts(session: Session) -> Labels:
    return {
        make_account(session, region="EMEA").id: "match",
        make_account(session, region="APAC").id: "other",
        make_account(session).id: "empty",
    }


def dates(session: Session) -> Labels:
    return {
        make_account(session, renewal_date="2026-06-30").id: "match",
        make_account(session, renewal_date="2026-01-15").id: "other",
        make_account(session).id: "empty",
    }


def customs(session: Session) -> Labels:
    me = actor(session)
    declare_attribute(session, name="seats", type="number", actor=me)

    def account(custom: dict[str, str]) -> int:
        fields = build_fields(name="Seats")
        return create_account(session, fields=fields, custom=custom, actor=me).id

    return {
        account({"seats": "25"}): "match",
        account({"seats": "3"}): "other",
        account({}): "empty",
        account({"seats": ""}): "empty",
    }


def owners(session: Session) -> Labels:
    me = actor(session)
    ann, bob, cy = (make_user(session, f"{n}@example.com") for n in ("ann", "bob", "cy"))
    make_user(session, "dee@example.com")
    labels = {
        make_account(session, external_id="M").id: "match",
        make_account(session, external_id="O").id: "other",
        make_account(session, external_id="E").id: "empty",
        make_account(session, external_id="K").id: "empty",
    }
    assign_accounts(session, selection=AccountRefs(["M"]), csms=[ann], actor=me)
    assign_accounts(session, selection=AccountRefs(["O"]), csms=[bob], actor=me)
    assign_accounts(session, selection=AccountRefs(["K"]), csms=[cy], actor=me)
    deactivate_user(session, user=cy, actor=me, keep=True)
    return labels


TABLES: dict[str, tuple[Callable[[Session], Labels], dict[str, set[str]]]] = {
    "number": (numbers, NUMBER),
    "text": (texts, TEXT),
    "date": (dates, DATE),
    "custom": (customs, CUSTOM),
    "owner": (owners, OWNER),
}


def selected(session: Session, rule: str) -> set[int]:
    return set(session.scalars(select(Account.id).where(compile_where(session, rule).where)))


@pytest.mark.parametrize("kind", list(TABLES))
def test_what_each_operator_selects_among_matching_other_and_empty(
    session: Session, kind: str
) -> None:
    build, table = TABLES[kind]
    labels = build(session)
    total = session.scalar(select(func.count()).select_from(Account))
    assert total == len(labels)

    actual = {rule: {labels[i] for i in selected(session, rule)} for rule in table}

    assert actual == table
    for rule in table:  # not R is the exact complement of R
        chosen, rest = selected(session, rule), selected(session, f"not ({rule})")
        assert not chosen & rest, rule
        assert len(chosen) + len(rest) == total, rule
        assert selected(session, f"not not ({rule})") == chosen, rule
