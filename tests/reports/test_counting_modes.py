"""Each counting mode against a model in plain Python over a hand-built hierarchy.

The hierarchy has three levels, co-owners, inheriting children and own children:

    Parent (Ana, Ben)          mrr 1000.00  health 80  rating 5  nps 50
    ├── Heir (inherits)        mrr  200.00  health 30  rating 2
    │   └── Heir kid (inherits) mrr 50.00   health —
    └── Own (Cy)               mrr  300.33  health 55           nps -10
        └── Own kid (Ana)      mrr   70.00  health 90
    Solo (Cy, Dee inactive)    mrr   10.01  health 40           nps 20
    Nobody's                   mrr  999.00
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bookwise.assignments.inheritance import set_inherit_policy
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.models import Assignment, User
from bookwise.reports.counting import COUNTING_MODES
from bookwise.reports.team import team_report
from tests.factories import actor, make_account, make_user

# name: (parent, mrr in minor units, health, rating, nps)
ACCOUNTS: dict[str, tuple[str | None, int | None, int | None, int | None, int | None]] = {
    "Parent": (None, 100_000, 80, 5, 50),
    "Heir": ("Parent", 20_000, 30, 2, None),
    "Heir kid": ("Heir", 5_000, None, None, None),
    "Own": ("Parent", 30_033, 55, None, -10),
    "Own kid": ("Own", 7_000, 90, None, None),
    "Solo": (None, 1_001, 40, None, 20),
    "Nobody's": (None, 99_900, None, None, None),
}
# Owners in the order they were assigned (inherited ones follow their parent's).
OWNERS: dict[str, list[str]] = {
    "Parent": ["Ana", "Ben"],
    "Heir": ["Ana", "Ben"],
    "Heir kid": ["Ana", "Ben"],
    "Own": ["Cy"],
    "Own kid": ["Ana"],
    "Solo": ["Cy", "Dee"],
    "Nobody's": [],
}
PEOPLE = ("Ana", "Ben", "Cy", "Dee", "Eve")  # Eve owns nothing; Dee is deactivated later


def _ancestors(name: str) -> list[str]:
    found = []
    parent = ACCOUNTS[name][0]
    while parent is not None:
        found.append(parent)
        parent = ACCOUNTS[parent][0]
    return found


def expected_credits(mode: str) -> dict[str, list[tuple[str, Fraction, int]]]:
    """Per person: (account, count credit, MRR credit in minor units), computed by hand."""
    credits: dict[str, list[tuple[str, Fraction, int]]] = {p: [] for p in PEOPLE}
    for account, owners in OWNERS.items():
        parent, mrr, *_ = ACCOUNTS[account]
        for rank, person in enumerate(owners):
            if mode == "all" or (mode == "top-level" and parent is None):
                credits[person].append((account, Fraction(1), mrr or 0))
            elif mode == "rollup":
                root = not any(person in OWNERS[a] for a in _ancestors(account))
                credits[person].append((account, Fraction(int(root)), mrr or 0))
            elif mode == "split":
                n = len(owners)
                share = (1000 // n + (rank < 1000 % n)) / Fraction(1000)
                money = (mrr or 0) // n + (rank < (mrr or 0) % n)
                credits[person].append((account, share, money))
    return credits


def _average(credits: list[tuple[str, Fraction, int]], column: int) -> Decimal | None:
    weighted = [(w, ACCOUNTS[a][column]) for a, w, _ in credits if ACCOUNTS[a][column] is not None]
    weight = sum(w for w, _ in weighted)
    if not weight:
        return None
    value = sum(w * v for w, v in weighted) / weight  # type: ignore[operator]
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"))


def build_hierarchy(session: Session) -> dict[str, User]:
    """The accounts and owners above, through the real services."""
    me = actor(session)
    people = {p: make_user(session, f"{p.lower()}@example.com", name=p) for p in PEOPLE}
    made = {}
    for name, (parent, mrr, health, rating, nps) in ACCOUNTS.items():
        made[name] = make_account(
            session,
            name,
            external_id=name,
            parent=made[parent] if parent else None,
            mrr=None if mrr is None else Decimal(mrr) / 100,
            health_score=health,
            csm_rating=rating,
            nps=nps,
        )
    set_inherit_policy(
        session, selection=AccountRefs(["Heir", "Heir kid"]), policy="inherit", actor=me
    )
    for account in ("Parent", "Own", "Own kid", "Solo"):
        for person in OWNERS[account]:
            assign_accounts(
                session, selection=AccountRefs([account]), csms=[people[person]], actor=me
            )
    session.execute(update(User).where(User.id == people["Dee"].id).values(active=False))
    return people


def test_the_hierarchy_is_the_one_described(session: Session) -> None:
    people = build_hierarchy(session)
    names = {u.id: p for p, u in people.items()}
    from bookwise.models import Account

    rows = session.execute(
        select(Account.name, Assignment.user_id)
        .join(Assignment, Assignment.account_id == Account.id)
        .where(Assignment.ended_at.is_(None))
        .order_by(Assignment.started_at, Assignment.id)
    ).all()
    owners: dict[str, list[str]] = {a: [] for a in ACCOUNTS}
    for account, user_id in rows:
        owners[account].append(names[user_id])
    assert owners == OWNERS


@pytest.mark.parametrize("mode", list(COUNTING_MODES))
def test_each_mode_matches_the_model_in_python(session: Session, mode: str) -> None:
    build_hierarchy(session)
    report = team_report(session, counting=mode)
    expected = expected_credits(mode)
    got = {row.name: row for row in report.items}
    assert list(got) == ["Ana", "Ben", "Cy", "Dee", "Eve"]
    assert got["Dee"].flag == "inactive"
    assert got["Eve"].flag is None
    for person, credits in expected.items():
        row = got[person]
        count = sum(w for _, w, _ in credits)
        if mode == "split":
            assert row.accounts == Decimal(count.numerator) / count.denominator, person
        else:
            assert row.accounts == count, person
        assert row.mrr == Decimal(sum(m for *_, m in credits)) / 100, person
        assert row.avg_health == _average(credits, 2), person
        assert row.avg_csm_rating == _average(credits, 3), person
        assert row.avg_nps == _average(credits, 4), person
        bands = {"healthy": 0, "neutral": 0, "unhealthy": 0, "unknown": 0}
        for account, w, _ in credits:
            health = ACCOUNTS[account][2]
            band = (
                "unknown"
                if health is None
                else "healthy"
                if health >= 70
                else "unhealthy"
                if health < 40
                else "neutral"
            )
            bands[band] += w  # type: ignore[assignment]
        assert {b: Fraction(str(getattr(row, b))) for b in bands} == bands, person
    credited = {a for credits in expected.values() for a, w, _ in credits if w}
    touched = {a for credits in expected.values() for a, _, _ in credits}
    assert report.team_accounts == len(credited)
    assert report.team_mrr == Decimal(sum(ACCOUNTS[a][1] or 0 for a in touched)) / 100
    assert report.counting == mode


def test_split_adds_up_exactly_to_the_team_total(session: Session) -> None:
    build_hierarchy(session)
    report = team_report(session, counting="split")
    assert sum(Decimal(str(r.accounts)) for r in report.items) == report.team_accounts
    assert sum(r.mrr for r in report.items) == report.team_mrr
