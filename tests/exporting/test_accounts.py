"""Accounts export on a real database: every column, the filters, and a fixed statement count."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bookwise.accounts.service import build_fields, create_account, declare_attribute
from bookwise.assignments.filters import OwnershipFilter
from bookwise.assignments.listing import list_accounts
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.db import read_session
from bookwise.errors import InvalidInput
from bookwise.exporting import write_accounts_csv
from bookwise.exporting.accounts import ACCOUNT_FIELDS
from bookwise.models import Account, User
from tests.exporting.helpers import parse_export
from tests.factories import actor, make_account, make_family_tree, make_user
from tests.helpers import count_statements

ATTRIBUTES = (
    ("plan", "text", None),
    ("seats", "number", None),
    ("budget", "money", None),
    ("signed", "date", None),
    ("trial", "boolean", None),
    ("size", "choice", ["Small", "-Large"]),
)


def export(session: Session, **options: object) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    count = write_accounts_csv(session, out, **options)  # type: ignore[arg-type]
    rows = parse_export(out.getvalue())
    assert count == len(rows)
    return rows


def build_book(session: Session) -> tuple[User, User]:
    """A parent with custom values and two co-owners, a child, and an account of NULLs."""
    me = actor(session)
    for name, kind, choices in ATTRIBUTES:
        declare_attribute(session, name=name, type=kind, choices=choices, actor=me)
    x = make_user(session, "x@example.com")
    y = make_user(session, "Yo@Example.com")
    parent = create_account(
        session,
        fields=build_fields(
            name="=Acme Holdings",
            external_id="P-1",
            domain="acme.example",
            mrr="1,797.19",
            health_score=80,
            tier="Tier 2",
            lifecycle_stage="Onboarding",
            nps=-20,
            csm_rating=4,
            region="@EMEA",
            renewal_date="2027-01-31",
            inherit_policy="own",
        ),
        parent=None,
        custom={
            "plan": "+gold\n=1",
            "seats": "1,200",
            "budget": "99.5",
            "signed": "2026-02-03",
            "trial": "yes",
            "size": "-large",
        },
        actor=me,
    )
    make_account(session, "Acme Child", external_id="C-1", parent=parent, inherit_policy="inherit")
    make_account(session, "Bare", external_id=None)
    # y first, then x: owners are listed in the order they started, not by email.
    assign_accounts(session, selection=AccountRefs(["P-1"]), csms=[y], actor=me)
    assign_accounts(session, selection=AccountRefs(["P-1"]), csms=[x], actor=me)
    return x, y


def test_every_column_of_every_account(session: Session) -> None:
    build_book(session)
    rows = export(session, sort="external_id")
    custom = [f"custom.{name}" for name, _, _ in ATTRIBUTES]
    assert list(rows[0]) == [f.name for f in ACCOUNT_FIELDS] + sorted(custom)
    child, parent, bare = rows  # C-1, P-1, then the account without an external id
    assert parent == {
        "external_id": "P-1",
        "name": "'=Acme Holdings",
        "parent_external_id": "",
        "domain": "acme.example",
        "mrr": "1797.19",
        "health_score": "80",
        "tier": "2",
        "lifecycle_stage": "onboarding",
        "nps": "-20",
        "csm_rating": "4",
        "region": "'@EMEA",
        "renewal_date": "2027-01-31",
        "inherit_policy": "own",
        "csms": "Yo@example.com;x@example.com",
        "custom.budget": "99.50",
        "custom.plan": "'+gold\n=1",
        "custom.seats": "1200",
        "custom.signed": "2026-02-03",
        "custom.size": "'-Large",
        "custom.trial": "true",
    }
    assert child["parent_external_id"] == "P-1"
    assert child["inherit_policy"] == "inherit"
    assert child["csms"] == "Yo@example.com;x@example.com"  # inherited from P-1
    assert bare["external_id"] == ""
    assert bare["name"] == "Bare"
    assert {k: v for k, v in bare.items() if k != "name"} == {k: "" for k in bare if k != "name"}


def test_closed_rows_and_other_roles_are_not_owners(session: Session) -> None:
    _x, y = build_book(session)
    me = actor(session)
    unassign_accounts(session, selection=AccountRefs(["P-1"]), csm=y, actor=me)
    add_role(session, name="onboarding", actor=me)
    z = make_user(session, "z@example.com")
    assign_accounts(session, selection=AccountRefs(["P-1"]), csms=[z], role="onboarding", actor=me)
    (parent,) = [r for r in export(session) if r["external_id"] == "P-1"]
    assert parent["csms"] == "x@example.com"


def test_an_inactive_owner_kept_with_keep_is_still_exported(session: Session) -> None:
    x, _ = build_book(session)
    deactivate_user(session, user=x, actor=actor(session), keep=True)
    (parent,) = [r for r in export(session) if r["external_id"] == "P-1"]
    assert parent["csms"] == "Yo@example.com;x@example.com"


def test_an_empty_database_gives_the_marker_and_the_header(session: Session) -> None:
    assert export(session) == []


def test_an_unknown_sort_is_refused_before_anything_is_written(session: Session) -> None:
    out = io.StringIO()
    with pytest.raises(InvalidInput, match="cannot sort by 'colour'"):
        write_accounts_csv(session, out, sort="colour")
    assert out.getvalue() == ""


FILTERS = {
    "all": lambda x, y: OwnershipFilter(),
    "assigned to x": lambda x, y: OwnershipFilter(assigned_to=x),
    "unassigned": lambda x, y: OwnershipFilter(unassigned=True),
    "not x, no-one": lambda x, y: OwnershipFilter(not_assigned_to=x, who="no-one"),
    "not x, others": lambda x, y: OwnershipFilter(not_assigned_to=x, who="others"),
    "not y, all": lambda x, y: OwnershipFilter(not_assigned_to=y, who="all"),
}


@pytest.mark.parametrize("sort", ["name", "-mrr", "external_id", "-renewal_date"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_filters_and_sort_select_what_accounts_list_shows(
    session: Session, name: str, sort: str
) -> None:
    me = actor(session)
    x = make_user(session, "x@example.com")
    y = make_user(session, "y@example.com")
    accounts = [
        make_account(session, f"Acct {n:02}", mrr=str(n * 10) if n % 3 else None) for n in range(12)
    ]
    ids = [a.id for a in accounts]
    assign_accounts(session, selection=AccountRefs(ids[:5]), csms=[x], actor=me)
    assign_accounts(session, selection=AccountRefs(ids[3:8]), csms=[y], actor=me)
    where = FILTERS[name](x, y).conditions()
    listed = list_accounts(session, where=where, sort=sort, limit=1000).items
    exported = export(session, where=where, sort=sort)
    assert [r["external_id"] for r in exported] == [a.external_id for a in listed]
    assert [r["csms"] for r in exported] == [";".join(a.csms) for a in listed]


def _populate(engine: Engine, size: int) -> None:
    from bookwise.db import write_session

    with write_session(engine) as session:
        parents, children = make_family_tree(
            session, parents=size // 5, children_each=4, prefix=f"S{size}-"
        )
        x = make_user(session, f"x{size}@example.com")
        y = make_user(session, f"y{size}@example.com")
        ids = [p.id for p in parents] + [c.id for c in children]
        assign_accounts(session, selection=AccountRefs(ids), csms=[x, y], actor=actor(session))


def _statements(engine: Engine, prefix: str, batch_size: int) -> tuple[int, int]:
    with read_session(engine) as session, count_statements(engine) as log:
        rows = write_accounts_csv(
            session,
            io.StringIO(),
            where=[Account.external_id.like(f"{prefix}%")],
            batch_size=batch_size,
        )
    return rows, log.count


def test_statements_grow_neither_with_the_accounts_nor_with_the_batches(engine: Engine) -> None:
    _populate(engine, 10)
    _populate(engine, 1000)
    small, large = _statements(engine, "S10-", 5000), _statements(engine, "S1000-", 5000)
    assert (small[0], large[0]) == (10, 1000)
    assert small[1] == large[1] <= 3  # (BEGIN on SQLite) definitions, accounts with owners
    # and no statement more for further batches: 10 batches of 100, 4 of 300
    assert _statements(engine, "S1000-", 100) == (1000, large[1])
    assert _statements(engine, "S1000-", 300) == (1000, large[1])
