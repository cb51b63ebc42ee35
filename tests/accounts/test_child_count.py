"""``child_count`` follows every path that sets or changes a parent, and stays exact when
writers add children to one parent at the same time (with proof that the guard matters)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, select, update
from sqlalchemy.orm import Session

from bookwise.accounts import service as accounts_service
from bookwise.accounts.hierarchy import recount_children
from bookwise.assignments.inheritance import move_account
from bookwise.assignments.undo import undo_operation
from bookwise.db import read_session, write_session
from bookwise.importing.report import ImportReport
from bookwise.models import Account
from tests.factories import actor, make_account
from tests.helpers import race
from tests.importing.helpers import run_import

WRITERS = 6


def import_text(engine: Engine, folder: Path, rows: str) -> ImportReport:
    """Import a CSV file holding ``rows`` (a header line first) and return the report."""
    path = folder / f"file-{len(list(folder.iterdir()))}.csv"
    path.write_text(rows)
    return run_import(engine, path)[0]


def counts(engine: Engine) -> dict[str, int]:
    """Stored child counts by external id (accounts with none left out)."""
    with read_session(engine) as session:
        rows = session.execute(
            select(Account.external_id, Account.child_count).where(Account.child_count != 0)
        )
        return {str(ref): n for ref, n in rows}


def exact(engine: Engine) -> bool:
    """True when every stored count equals a recount from scratch."""
    with write_session(engine) as session:
        return recount_children(session, actor=actor(session), dry_run=True).differing == 0


def test_create_move_and_undo_keep_the_counts(engine: Engine) -> None:
    with write_session(engine) as session:
        a = make_account(session, external_id="A")
        b = make_account(session, external_id="B")
        kids = [make_account(session, external_id=f"K{i}", parent=a) for i in range(3)]
        ids = (a.id, b.id, kids[0].id, kids[1].id)
    assert counts(engine) == {"A": 3}

    with write_session(engine) as session:
        kid, b_account = session.get_one(Account, ids[2]), session.get_one(Account, ids[1])
        moved = move_account(session, account=kid, parent=b_account, actor=actor(session))
        top = session.get_one(Account, ids[3])
        move_account(session, account=top, parent=None, actor=actor(session))
    assert counts(engine) == {"A": 1, "B": 1}

    with write_session(engine) as session:
        undo_operation(session, operation_id=moved.operation_id, actor=actor(session))
    assert counts(engine) == {"A": 2}
    assert exact(engine)


def test_import_creates_and_moves_children_with_their_counts(
    engine: Engine, tmp_path: Path
) -> None:
    tree = "external_id,name,parent_external_id\nT1,Top,\nT2,Mid,T1\nT3,Low,T2\nT4,X,T1\n"
    import_text(engine, tmp_path, tree)
    assert counts(engine) == {"T1": 2, "T2": 1}

    import_text(engine, tmp_path, "external_id,parent_external_id\nT3,T1\nT4,T2\nT2,\n")
    assert counts(engine) == {"T1": 1, "T2": 1}
    assert exact(engine)


def test_import_moves_existing_accounts_under_new_ones_listed_after_them(
    engine: Engine, tmp_path: Path
) -> None:
    """New accounts get their ids before the insert, so a row may name a parent that a
    later row creates, for a new account and for one that moves."""
    import_text(engine, tmp_path, "external_id,name,parent_external_id\nOLD,Old,\nKID,Kid,OLD\n")
    report = import_text(
        engine,
        tmp_path,
        "external_id,name,parent_external_id\n"
        "KID,Kid,NEW2\nNEW1,New one,NEW2\nNEW2,New two,NEW3\nNEW3,New three,OLD\n",
    )
    assert (report.created, report.updated, report.failed) == (3, 1, 0)
    with read_session(engine) as session:
        accounts = {a.id: a for a in session.scalars(select(Account))}
        ref = {id_: a.external_id for id_, a in accounts.items()}
        parents = {a.external_id: ref.get(a.parent_id) for a in accounts.values()}
        depths = {a.external_id: a.depth for a in accounts.values()}
    assert parents == {"OLD": None, "NEW3": "OLD", "NEW2": "NEW3", "NEW1": "NEW2", "KID": "NEW2"}
    assert depths == {"OLD": 0, "NEW3": 1, "NEW2": 2, "NEW1": 3, "KID": 3}
    assert counts(engine) == {"OLD": 1, "NEW3": 1, "NEW2": 2}
    assert exact(engine)


def test_a_new_account_under_an_existing_one_that_moves_gets_its_final_depth(
    engine: Engine, tmp_path: Path
) -> None:
    import_text(engine, tmp_path, "external_id,name,parent_external_id\nTOP,Top,\nMID,Mid,\n")
    report = import_text(
        engine,
        tmp_path,
        "external_id,name,parent_external_id\nLEAF,Leaf,MID\nMID,Mid,TOP\nTOP,Top,\n",
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    with read_session(engine) as session:
        rows = session.execute(select(Account.external_id, Account.depth)).all()
    depths = {str(ref): depth for ref, depth in rows}
    assert depths == {"TOP": 0, "MID": 1, "LEAF": 2}
    assert counts(engine) == {"TOP": 1, "MID": 1}
    assert exact(engine)


def test_recount_repairs_a_wrong_count(engine: Engine) -> None:
    with write_session(engine) as session:
        parent = make_account(session, external_id="P")
        make_account(session, external_id="C", parent=parent)
        session.execute(update(Account).values(child_count=Account.child_count + 3))
    with write_session(engine) as session:
        report = recount_children(session, actor=actor(session))
    assert report.differing == 2
    assert report.differences()[0].endswith("child_count 4, counted 1")
    assert counts(engine) == {"P": 1}
    assert exact(engine)


def _naive_shift(session: Session, *, children: Select[Any], by: int) -> None:
    """The lost-update shape: read the count, then write back what was read plus ``by``."""
    for parent_id in session.scalars(
        select(Account.parent_id).where(Account.id.in_(children), Account.parent_id.is_not(None))
    ):
        stored = session.scalar(select(Account.child_count).where(Account.id == parent_id))
        session.execute(
            update(Account).where(Account.id == parent_id).values(child_count=stored + by)
        )


def _move_under_one_parent(engine: Engine, prefix: str = "") -> list[BaseException]:
    """WRITERS threads each move a top-level account under the same parent <prefix>P, meeting
    inside their transactions on PostgreSQL (SQLite's writers queue at BEGIN IMMEDIATE)."""
    with write_session(engine) as session:
        make_account(session, external_id=f"{prefix}P")
        for i in range(WRITERS):
            make_account(session, external_id=f"{prefix}K{i}")

    def move(i: int) -> Callable[[Session, Callable[[], None]], None]:
        def work(session: Session, meet: Callable[[], None]) -> None:
            named = select(Account).where(Account.external_id == f"{prefix}P")
            parent = session.scalars(named).one()
            named = select(Account).where(Account.external_id == f"{prefix}K{i}")
            kid = session.scalars(named).one()
            meet()
            move_account(session, account=kid, parent=parent, actor=actor(session))

        return work

    return race(engine, [move(i) for i in range(WRITERS)])


def test_concurrent_moves_under_one_parent_are_all_counted(engine: Engine) -> None:
    assert _move_under_one_parent(engine) == []
    assert counts(engine) == {"P": WRITERS}
    assert exact(engine)


def test_the_in_statement_increment_alone_keeps_concurrent_counts(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the hierarchy lock gone, moves overlap, and the counts stay exact: the
    ``child_count = child_count + n`` update is a guard of its own; with the read-then-write
    shape instead, the same overlap loses counts (the guard has teeth)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers are serial (BEGIN IMMEDIATE); the overlap is PostgreSQL's")
    monkeypatch.setattr(accounts_service, "serialise_hierarchy_changes", lambda session: None)
    assert _move_under_one_parent(engine) == []
    assert counts(engine) == {"P": WRITERS}
    assert exact(engine)

    monkeypatch.setattr(accounts_service, "shift_child_counts", _naive_shift)
    assert _move_under_one_parent(engine, prefix="2") == []
    assert counts(engine).get("2P", 0) < WRITERS
    assert not exact(engine)
