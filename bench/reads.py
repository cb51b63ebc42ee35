"""Scenarios 1–3: the CSM overview, one CSM's assignment pages, and rule listings.

Each bookwise side goes through the service layer exactly as the API and CLI do (filters →
conditions → ``list_accounts``); each floor is the same question as plain SQL: the page's
rows, their owners, and the total, in one read transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bench.context import Target, param
from bench.harness import Pair
from bookwise.assignments.listing import AccountPage
from bookwise.assignments.overview import csm_overview
from bookwise.assignments.reports import children_per_parent_owner
from bookwise.errors import NotFound
from bookwise.money import to_minor_units
from bookwise.segments.rules import compile_where
from bookwise.segments.selection import AccountFilter, list_selected
from bookwise.segments.service import create_segment, get_segment

PAGE = 50
OWN = "a.role = 'csm' AND a.ended_at IS NULL"
BOOK = f"SELECT a.account_id FROM assignments a WHERE a.user_id = :x AND {OWN}"
BOOK_SIZE = f"SELECT count(*) FROM assignments a WHERE a.user_id = :x AND {OWN}"
ACTIVE_OWNER = (
    "EXISTS (SELECT 1 FROM assignments a JOIN users u ON u.id = a.user_id "
    f"WHERE a.account_id = c.id AND {OWN} AND u.active)"
)
OWNERS = (
    "SELECT a.account_id, u.email, u.active FROM assignments a JOIN users u "
    f"ON u.id = a.user_id WHERE {OWN} AND a.account_id IN ({{ids}}) "
    "ORDER BY a.account_id, a.started_at, a.id"
)
BY_NAME = "ORDER BY c.name_fold, c.id"
BY_MRR_DESC = "ORDER BY c.mrr DESC NULLS LAST, c.id DESC"
RULE_TIER = "tier = 1 and health_score < 50"
RULE_ONBOARDING = 'lifecycle_stage = "onboarding" and mrr > 5000'


def page_answer(page: Any) -> tuple[Any, ...]:
    """(ids in order, their CSM emails, total) for a bookwise page or a floor result."""
    if isinstance(page, AccountPage):
        return tuple((row.id, tuple(row.csms)) for row in page.items), page.total
    return page


def floor_page(
    t: Target, where: str, order: str, total_sql: str, params: dict[str, Any]
) -> tuple[Any, ...]:
    """A page of 50 accounts (every column, as bookwise loads them), their owners, the total."""
    rows = t.floor.rows(f"SELECT c.* FROM accounts c WHERE {where} {order} LIMIT {PAGE}", params)
    ids = [row[0] for row in rows]
    owners: dict[int, list[tuple[str, bool]]] = {}
    if ids:
        for account_id, email, active in t.floor.rows(
            OWNERS.format(ids=", ".join(str(i) for i in ids))
        ):
            owners.setdefault(account_id, []).append((email, bool(active)))
    total = int(t.floor.value(total_sql, params))
    return tuple((i, _ordered_owners(owners.get(i, []))) for i in ids), total


def _ordered_owners(owners: list[tuple[str, bool]]) -> tuple[str, ...]:
    # bookwise lists active owners first, then inactive ones (flagged "owner inactive").
    return tuple([e for e, a in owners if a] + [e for e, a in owners if not a])


def bookwise_page(t: Target, filters: AccountFilter, sort: str = "name") -> AccountPage:
    """The service-layer path of ``GET /accounts``: filters → one page and its total."""
    with t.reading() as session:
        return list_selected(session, filters, sort=sort, limit=PAGE)[0]


def overview_pairs(t: Target) -> list[Pair]:
    """Scenario 1: every active CSM-seat user with the number and MRR of accounts they own."""

    def ours() -> list[tuple[str, int, int]]:
        with t.reading() as session:
            overview = csm_overview(session)
        return [(row.email, row.accounts, _minor(row.mrr)) for row in overview.items]

    def floor() -> list[tuple[str, int, int]]:
        rows = t.floor.rows(
            "SELECT u.email, count(a.account_id), coalesce(sum(c.mrr), 0) FROM users u "
            f"LEFT JOIN assignments a ON a.user_id = u.id AND {OWN} "
            "LEFT JOIN accounts c ON c.id = a.account_id WHERE u.active AND u.csm_seat "
            "GROUP BY u.id, u.email, u.email_fold ORDER BY u.email_fold"
        )
        return [(str(e), int(n), int(m)) for e, n, m in rows]

    return [Pair("1 CSM overview", "read", ours, floor, rows=len)]


def _minor(amount: Decimal) -> int:
    value = to_minor_units(amount)
    assert value is not None
    return value


def page_pairs(t: Target) -> list[Pair]:
    """Scenario 2: one CSM's assigned page and the three 'not assigned' pages, with totals."""
    x = param(x=t.csm_id)
    mine = f"c.id IN ({BOOK})"
    others = f"{ACTIVE_OWNER} AND c.id NOT IN ({BOOK})"
    advanced = f"c.id NOT IN ({BOOK}) AND c.tier = 1 AND c.health_score < 50"
    cases = [
        ("2a assigned page", AccountFilter(assigned_to=t.csm), mine, BOOK_SIZE),
        (
            "2b no-one page",
            AccountFilter(not_assigned_to=t.csm, who="no-one"),
            f"NOT {ACTIVE_OWNER}",
            None,
        ),
        ("2c other CSMs page", AccountFilter(not_assigned_to=t.csm, who="others"), others, None),
        (
            "2d advanced filter page",
            AccountFilter(not_assigned_to=t.csm, where=RULE_TIER),
            advanced,
            None,
        ),
    ]
    pairs = []
    for name, filters, where, total in cases:
        total_sql = total or f"SELECT count(*) FROM accounts c WHERE {where}"
        pairs.append(
            Pair(
                name,
                "read",
                lambda f=filters: bookwise_page(t, f),
                lambda w=where, s=total_sql: floor_page(t, w, BY_NAME, s, x),
                answer=page_answer,
                rows=lambda page: int(page_answer(page)[1]),
            )
        )
    return pairs


def parents_segment(t: Target) -> str:
    """The Custify recipe's per-CSM segment, "<X>'s parents", created once."""
    name = f"{t.csm}'s parents"
    with t.writing() as session:
        try:
            get_segment(session, name)
        except NotFound:
            actor = t.user(session, t.actor_id)
            create_segment(session, name=name, rule=f'csm = "{t.csm}" and is_parent', actor=actor)
    return name


def rule_pairs(t: Target) -> list[Pair]:
    """Scenario 3: rule listings, and the Custify recipe for one CSM and for every CSM."""
    x = param(x=t.csm_id)
    onboarding = "c.lifecycle_stage = 'onboarding' AND c.mrr > 500000"
    segment = parents_segment(t)
    children = (
        f"c.parent_id IN (SELECT p.id FROM accounts p WHERE p.id IN ({BOOK}) "
        "AND EXISTS (SELECT 1 FROM accounts k WHERE k.parent_id = p.id))"
    )

    def recipe_for_everyone() -> list[tuple[str, int]]:
        with t.reading() as session:
            where = compile_where(session, "is_child").where
            counts = children_per_parent_owner(session, where=[where])
        return sorted(counts.items())

    def recipe_floor() -> list[tuple[str, int]]:
        rows = t.floor.rows(
            "SELECT u.email, count(*) FROM accounts c JOIN assignments a "
            f"ON a.account_id = c.parent_id AND {OWN} JOIN users u ON u.id = a.user_id "
            "WHERE c.parent_id IS NOT NULL GROUP BY u.email ORDER BY u.email"
        )
        return [(str(e), int(n)) for e, n in rows]

    return [
        Pair(
            "3a rule page, sorted by MRR",
            "read",
            lambda: bookwise_page(t, AccountFilter(where=RULE_ONBOARDING), sort="-mrr"),
            lambda: floor_page(
                t,
                onboarding,
                BY_MRR_DESC,
                f"SELECT count(*) FROM accounts c WHERE {onboarding}",
                {},
            ),
            answer=page_answer,
            rows=lambda page: int(page_answer(page)[1]),
        ),
        Pair(
            "3b children of one CSM's parents",
            "read",
            lambda: bookwise_page(
                t, AccountFilter(where=f'is_child and parent in segment "{segment}"')
            ),
            lambda: floor_page(
                t, children, BY_NAME, f"SELECT count(*) FROM accounts c WHERE {children}", x
            ),
            answer=page_answer,
            rows=lambda page: int(page_answer(page)[1]),
        ),
        Pair(
            "3c Custify recipe, every CSM at once",
            "read",
            recipe_for_everyone,
            recipe_floor,
            rows=lambda counts: sum(n for _, n in counts),
        ),
    ]
