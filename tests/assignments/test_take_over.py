"""Take over: one operation that moves accounts from every current owner to one CSM."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bookwise.assignments.selection import AccountQuery, AccountRefs
from bookwise.assignments.service import assign_accounts, take_over_accounts
from bookwise.assignments.undo import undo_operation
from bookwise.db import write_session
from bookwise.errors import Conflict
from bookwise.models import Account, Operation, User
from tests.assignments.test_statement_counts import Scenario, build, not_assigned
from tests.factories import actor, make_account, make_user
from tests.helpers import chain_violations, count_statements, open_csms, ownership_snapshot


def test_every_other_owner_goes_and_the_rep_stays_alone_then_undo(session: Session) -> None:
    me = actor(session)
    rep, ana, ben = make_user(session), make_user(session), make_user(session)
    shared = make_account(session, external_id="SHARED")
    with_rep = make_account(session, external_id="WITH-REP")
    alone = make_account(session, external_id="ALONE")
    nobody = make_account(session, external_id="NOBODY")
    untouched = make_account(session, external_id="UNTOUCHED")
    child = make_account(session, parent=shared, inherit_policy="inherit")
    assign_accounts(
        session, selection=AccountRefs(["SHARED", "UNTOUCHED"]), csms=[ana, ben], actor=me
    )
    assign_accounts(session, selection=AccountRefs(["WITH-REP"]), csms=[ana, rep], actor=me)
    assign_accounts(session, selection=AccountRefs(["ALONE"]), csms=[rep], actor=me)
    before = ownership_snapshot(session)

    result = take_over_accounts(
        session,
        selection=AccountRefs(["SHARED", "WITH-REP", "ALONE", "NOBODY", "MISSING"]),
        to_csm=rep,
        actor=me,
    )

    assert [(item.ref, item.outcome) for item in result.items] == [
        ("SHARED", "transferred"),
        ("WITH-REP", "transferred"),
        ("ALONE", "already_assigned"),
        ("NOBODY", "transferred"),
        ("MISSING", "not_found"),
    ]
    for account in (shared, with_rep, alone, nobody, child):
        assert open_csms(session, account) == {rep.email}
    assert open_csms(session, untouched) == {ana.email, ben.email}
    operation = session.get_one(Operation, result.operation_id)
    assert operation.kind == "take_over"
    assert operation.parameters["to"] == rep.email
    assert result.accounts_changed == 4  # the child follows its parent
    undo_operation(session, operation_id=result.operation_id or 0, actor=me)
    assert ownership_snapshot(session) == before
    assert chain_violations(session) == []


def test_a_filter_selection_counts_the_accounts_taken_over(session: Session) -> None:
    me = actor(session)
    rep, ana = make_user(session), make_user(session)
    for ref in ("T1", "T2", "T3"):
        make_account(session, external_id=ref)
    assign_accounts(session, selection=AccountRefs(["T1", "T2"]), csms=[ana], actor=me)
    ids = select(Account.id).where(Account.external_id.in_(["T1", "T2", "T3"]))
    result = take_over_accounts(
        session, selection=AccountQuery(ids=ids, description="three"), to_csm=rep, actor=me
    )
    assert result.counts == {"transferred": 3}
    assert result.accounts_changed == 3


def test_a_preview_changes_nothing_and_a_stale_fingerprint_is_refused(session: Session) -> None:
    me = actor(session)
    rep, ana, ben = make_user(session), make_user(session), make_user(session)
    make_account(session, external_id="P")
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[ana], actor=me)
    before = ownership_snapshot(session)
    preview = take_over_accounts(
        session, selection=AccountRefs(["P"]), to_csm=rep, actor=me, dry_run=True
    )
    assert ownership_snapshot(session) == before
    assign_accounts(session, selection=AccountRefs(["P"]), csms=[ben], actor=me)
    with pytest.raises(Conflict):
        take_over_accounts(
            session,
            selection=AccountRefs(["P"]),
            to_csm=rep,
            actor=me,
            expected_fingerprint=preview.fingerprint,
        )


def test_a_rep_without_a_seat_is_refused_and_nothing_changes(session: Session) -> None:
    me = actor(session)
    rep = make_user(session, seat=False)
    ana = make_user(session)
    account = make_account(session, external_id="R")
    assign_accounts(session, selection=AccountRefs(["R"]), csms=[ana], actor=me)
    result = take_over_accounts(session, selection=AccountRefs(["R"]), to_csm=rep, actor=me)
    assert [item.outcome for item in result.items] == ["refused_no_seat"]
    assert result.accounts_changed == 0
    assert open_csms(session, account) == {ana.email}


@pytest.mark.parametrize("selection", ["refs", "filter"])
def test_statement_count_does_not_grow_with_accounts(engine: Engine, selection: str) -> None:
    counts = {}
    for size, prefix in ((10, "S"), (1000, "L")):
        with write_session(engine) as session:
            built = build(session, size, prefix)
        with write_session(engine) as session:
            scenario = Scenario(
                built.parents,
                built.children,
                built.prefix,
                session.merge(built.x),
                session.merge(built.y),
                session.merge(built.me),
                built.assigned,
            )
            chosen = (
                AccountRefs(scenario.parents) if selection == "refs" else not_assigned(scenario)
            )
            y: User = scenario.y
            with count_statements(engine) as log:
                take_over_accounts(session, selection=chosen, to_csm=y, actor=scenario.me)
            counts[size] = log.count
    assert counts[10] == counts[1000], counts
    assert counts[10] <= 40, counts
