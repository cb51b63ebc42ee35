"""Re-parenting on deep chains: depths right, and work linear in the subtree (issue 14, 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from bookwise.accounts.service import get_account, set_parent
from bookwise.db import read_session, write_session
from bookwise.models import Account
from bookwise.users.service import cli_user
from tests.importing.helpers import run_import, write_rows


def _chain(engine: Engine, tmp_path: Path, depth: int, tag: str) -> None:
    rows = [f"{tag}{i},Chain {i},{f'{tag}{i - 1}' if i else ''}" for i in range(depth)]
    rows.append("ROOT,Root,")
    header = "external_id,name,parent_external_id"
    report, _ = run_import(engine, write_rows(tmp_path / f"{tag}.csv", header, rows))
    assert report.failed == 0


def _move_top(engine: Engine, tag: str, parent: str | None) -> None:
    with write_session(engine) as session:
        account = get_account(session, f"{tag}1")
        target = get_account(session, parent) if parent else None
        set_parent(session, account=account, parent=target, actor=cli_user(session))


def test_moving_the_top_of_a_5000_deep_chain_moves_every_depth(
    engine: Engine, tmp_path: Path
) -> None:
    _chain(engine, tmp_path, 5000, "C")

    _move_top(engine, "C", "ROOT")

    with read_session(engine) as session:
        rows = session.execute(select(Account.external_id, Account.depth)).all()
    depths = {external_id: depth for external_id, depth in rows}
    assert depths == {"ROOT": 0, "C0": 0, **{f"C{i}": i for i in range(1, 5000)}}


def test_a_big_import_leaves_postgresql_the_size_of_the_table(
    engine: Engine, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics of PostgreSQL (SQLite plans these walks by index)")
    _chain(engine, tmp_path, 5000, "C")

    with read_session(engine) as session:
        size = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'accounts'"))
    assert size is not None
    assert size >= 5000
