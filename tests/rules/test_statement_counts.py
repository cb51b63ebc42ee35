"""A rule is one SQL statement, however many conditions and segments it has and however many
accounts there are; building its catalog is a fixed number of statements too."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from bookwise.accounts.service import declare_attribute
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.models import Account
from bookwise.segments.rules import compile_where
from bookwise.segments.service import create_segment
from bookwise.users.service import get_user
from tests.factories import actor, make_family_tree, make_user
from tests.helpers import count_statements

SEGMENTS = {
    "Big": "mrr >= 500 or csm count >= 2",
    "Europe": 'region in ("EMEA", "DACH") or custom.plan = "Gold"',
    "Big in Europe": 'in segment "Big" and in segment "Europe" and not any child (tier = 1)',
}
RULE = """
    (tier in (1, 2) or mrr > 1000.50 or health_score is empty)
    and not lifecycle_stage = "churned"
    and (in segment "Big in Europe" or in segment "Big" or parent in segment "Big"
         or ancestor in segment "Europe")
    and any child (csm is empty or parent.csm = x@example.com)
    and csm count < 3 and csm != y@example.com and company level is 1
    and (renewal_date < today + 60 days or renewal_date is empty)
    and created_at <= today and name contains "parent"
    and (custom.seats between 1 and 500 or custom.seats is empty)
"""


def setup_installation(engine: Engine) -> None:
    with write_session(engine) as session:
        me = actor(session)
        make_user(session, "x@example.com")
        make_user(session, "y@example.com")
        declare_attribute(session, name="plan", type="choice", choices=["Gold", "Free"], actor=me)
        declare_attribute(session, name="seats", type="number", actor=me)
        for name, rule in SEGMENTS.items():
            create_segment(session, name=name, rule=rule, actor=me)


def add_accounts(engine: Engine, size: int, prefix: str) -> None:
    """``size`` accounts: parents with four children each; x owns every parent."""
    with write_session(engine) as session:
        parents, _children = make_family_tree(
            session, parents=size // 5, children_each=4, prefix=prefix
        )
        assign_accounts(
            session,
            selection=AccountRefs([p.id for p in parents]),
            csms=[get_user(session, "x@example.com")],
            actor=actor(session),
        )


def test_a_rule_runs_as_one_statement_at_10_and_at_1000_accounts(engine: Engine) -> None:
    setup_installation(engine)
    counts: dict[int, dict[str, int]] = {}
    for size, prefix in ((10, "S"), (1000, "L")):
        add_accounts(engine, size, prefix)
        with write_session(engine) as session:
            session.execute(select(1))  # the transaction is open before anything is counted
            with count_statements(engine) as compiling:
                where = compile_where(session, RULE).where
            with count_statements(engine) as counting:
                total = session.scalar(select(func.count()).select_from(Account).where(where))
            with count_statements(engine) as listing:
                ids = list(session.scalars(select(Account.id).where(where)))
            assert total == len(ids)
            assert total or size == 10, "the rule selects some of the 1,000 accounts"
            counts[size] = {
                "compile": compiling.count,
                "count": counting.count,
                "ids": listing.count,
            }

    assert counts[10] == counts[1000], counts
    assert counts[10]["count"] == 1
    assert counts[10]["ids"] == 1
    assert counts[10]["compile"] <= 5, "catalog: attributes, roles, segments, named users"
