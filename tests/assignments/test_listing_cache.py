"""The fixed cost of a page: statements kept per filter, compiled rules kept per catalog,
rows built without pydantic's per-field loop, and no COUNT where the counters know.

Every cache here is keyed by what its value depends on; each test changes one of those
things and checks the answer changes with it (a cache that ignored it would fail).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bookwise.assignments.listing import (
    COUNT_STATEMENTS,
    AccountRow,
    _account_row,
    list_accounts,
)
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.listing import PAGE_STATEMENTS, BoundedCache
from bookwise.rules import compiler
from bookwise.segments.rules import compile_where
from bookwise.segments.selection import AccountFilter, list_selected
from bookwise.segments.service import create_segment, update_segment
from tests.factories import actor, make_account, make_user
from tests.helpers import count_statements


def _ids(session: Session, filters: AccountFilter, **window: Any) -> list[int]:
    page, _ = list_selected(session, filters, **window)
    return [row.id for row in page.items]


def test_a_kept_page_statement_answers_each_filter_and_window_with_its_own_rows(
    session: Session,
) -> None:
    ana, ben = make_user(session, "ana-cache@example.com"), make_user(session, "ben-c@example.com")
    mine = [make_account(session, f"cache ana {i}", external_id=f"CA{i}") for i in range(5)]
    theirs = [make_account(session, f"cache ben {i}", external_id=f"CB{i}") for i in range(3)]
    me = actor(session)
    assign_accounts(session, selection=AccountRefs([a.id for a in mine]), csms=[ana], actor=me)
    assign_accounts(session, selection=AccountRefs([a.id for a in theirs]), csms=[ben], actor=me)

    first = _ids(session, AccountFilter(assigned_to=ana.email), limit=2)
    again = _ids(session, AccountFilter(assigned_to=ana.email), limit=2)
    later = _ids(session, AccountFilter(assigned_to=ana.email), limit=2, offset=2)
    other = _ids(session, AccountFilter(assigned_to=ben.email))
    assert first == again == [mine[0].id, mine[1].id]
    assert later == [mine[2].id, mine[3].id]  # the same statement, another window
    assert other == [a.id for a in theirs]  # another user: another statement's answer


def test_the_same_rule_against_an_edited_segment_is_compiled_again(session: Session) -> None:
    make_account(session, "seg small", external_id="SG1", tier=1)
    make_account(session, "seg big", external_id="SG2", tier=3)
    create_segment(session, name="cache tiers", rule="tier = 1", actor=actor(session))
    rule = 'in segment "cache tiers" and external_id starts with "SG"'
    before = list_accounts(session, where=[compile_where(session, rule).where])
    update_segment(session, name="cache tiers", rule="tier = 3", actor=actor(session))
    after = list_accounts(session, where=[compile_where(session, rule).where])
    assert [r.name for r in before.items] == ["seg small"]
    assert [r.name for r in after.items] == ["seg big"]


def test_a_rule_compiled_twice_against_the_same_catalog_is_the_same_condition(
    session: Session,
) -> None:
    first = compile_where(session, "tier = 1 and mrr > 5000").where
    assert compile_where(session, "tier = 1 and mrr > 5000").where is first
    assert compile_where(session, "tier = 2 and mrr > 5000").where is not first


def test_a_bounded_cache_keeps_the_most_recently_used_values_only() -> None:
    cache: BoundedCache[str] = BoundedCache(2)
    built: list[str] = []

    def build(value: str) -> Any:
        return lambda: built.append(value) or value

    cache.get("a", build("a"))
    cache.get("b", build("b"))
    cache.get("a", build("a"))  # a hit: a is now the most recent
    cache.get("c", build("c"))  # b goes
    assert len(cache) == 2
    assert cache.get("a", build("a")) == "a"
    assert cache.get("b", build("b")) == "b"  # built again
    assert built == ["a", "b", "c", "b"]


def test_the_statement_and_rule_caches_stay_within_their_size(session: Session) -> None:
    for n in range(PAGE_STATEMENTS.size + 20):
        rule = f"tier = {n % 5} and health_score > {n}"
        list_accounts(session, where=[compile_where(session, rule).where], limit=1)
    assert len(PAGE_STATEMENTS) <= PAGE_STATEMENTS.size
    assert len(COUNT_STATEMENTS) <= COUNT_STATEMENTS.size
    assert len(compiler._COMPILED) <= compiler.COMPILED_CACHE_SIZE


def test_a_page_whose_total_the_counters_know_counts_nothing(
    session: Session, engine: Engine
) -> None:
    ana = make_user(session, "ana-count@example.com")
    accounts = [make_account(session, f"count {i}", external_id=f"CT{i}") for i in range(3)]
    assign_accounts(
        session, selection=AccountRefs([a.id for a in accounts]), csms=[ana], actor=actor(session)
    )
    list_selected(session, AccountFilter(assigned_to=ana.email))  # warm
    with count_statements(engine) as log:
        page, _ = list_selected(session, AccountFilter(assigned_to=ana.email))
    assert page.total == 3
    # The user with its counter, the rows, their owners: no COUNT over the accounts.
    assert not [s for s in log.statements if "count(*)" in s.lower()], log.statements
    assert len(log.statements) == 3


def test_each_page_of_one_csm_sends_the_fewest_statements(session: Session, engine: Engine) -> None:
    ana, ben = make_user(session, "ana-few@example.com"), make_user(session, "ben-few@example.com")
    accounts = [make_account(session, f"few {i}", external_id=f"FW{i}", tier=1) for i in range(6)]
    me = actor(session)
    assign_accounts(session, selection=AccountRefs([accounts[0].id]), csms=[ana], actor=me)
    assign_accounts(session, selection=AccountRefs([accounts[1].id]), csms=[ben], actor=me)
    cases = [
        # filters, statements (users and counters are one), the total
        (AccountFilter(assigned_to=ana.email), 3, 1),  # users+counters, rows, owners
        (AccountFilter(not_assigned_to=ana.email, who="no-one"), 3, 4),
        (AccountFilter(not_assigned_to=ana.email, who="others"), 3, 1),
        (AccountFilter(not_assigned_to=ana.email), 3, 5),
        (AccountFilter(unassigned=True), 3, 4),  # counters, rows, owners
        # A rule is counted by the listing, its COUNT sent with the rows: users, rows, owners.
        (AccountFilter(not_assigned_to=ana.email, where="tier = 1"), 3, 5),
        (AccountFilter(assigned_to=ana.email, where="tier = 1"), 3, 1),
        (AccountFilter(where="tier = 1"), 2, 6),  # rows with their count, owners
    ]
    for filters, statements, total in cases:
        list_selected(session, filters)  # warm: the statements are built and kept
        with count_statements(engine) as log:
            page, _ = list_selected(session, filters)
        assert (len(log.statements), page.total) == (statements, total), (filters, log.statements)
        assert len(page.items) == total


def test_a_rule_page_past_its_last_row_or_matching_nothing_still_has_its_total(
    session: Session, engine: Engine
) -> None:
    for i in range(3):
        make_account(session, f"along {i}", external_id=f"AL{i}", tier=4, health_score=7)
    rule = AccountFilter(where="tier = 4 and health_score = 7")
    page, _ = list_selected(session, rule, limit=2)
    assert (len(page.items), page.total) == (2, 3)
    with count_statements(engine) as log:
        past, _ = list_selected(session, rule, offset=5)
    # No row carries the count: it is counted on its own (rows, count; no owners to read).
    assert (past.items, past.total) == ([], 3)
    assert len(log.statements) == 2, log.statements
    none, _ = list_selected(session, AccountFilter(where="tier = 4 and health_score = 8"))
    assert (none.items, none.total) == ([], 0)
    where = [compile_where(session, "tier = 4 and health_score = 7").where]
    untotalled = list_accounts(session, where=where, with_total=False)
    assert (len(untotalled.items), untotalled.total) == (3, None)


def test_a_listing_row_is_what_model_construct_makes() -> None:
    values: dict[str, Any] = {name: None for name in AccountRow.model_fields}
    values |= {"id": 7, "name": "Acme", "depth": 0, "mrr": 500000, "csms": ["a@x"]}
    values["owner_inactive"] = False
    fast, slow = _account_row(dict(values)), AccountRow.model_construct(**values)
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump(mode="json") == slow.model_dump(mode="json")
    assert fast.model_dump(mode="json")["mrr"] == "5000.00"
