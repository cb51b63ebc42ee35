"""A 100,000-row file, generated into tmp_path, imported through the real path (counts only)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from bookwise.db import read_session, write_session
from bookwise.models import Account, Assignment
from bookwise.users.service import build_user, cli_user, create_user
from tests.importing.helpers import run_import

ROWS = 100_000


def write_large_file(path: Path, rows: int) -> int:
    """Rows with parents after their children, owners, and 1 bad mrr in 100; return bad rows."""
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("external_id,name,parent_external_id,mrr,health_score,csms\r\n")
        for i in range(rows):
            # Each block of 10: rows 1-9 are children of row 0, which comes last in the block.
            parent = f"N{i - i % 10 + 9}" if i % 10 != 9 else ""
            mrr = "oops" if i % 100 == 50 else f'"{i:,}.{i % 100:02d}"'
            bad += i % 100 == 50
            owner = "big@example.com" if i % 3 == 0 else ""
            out.write(f'N{i},"Account {i}, Inc",{parent},{mrr},{i % 101},{owner}\r\n')
    return bad


def test_a_100k_row_file(engine: Engine, tmp_path: Path) -> None:
    with write_session(engine) as session:
        data = build_user(email="big@example.com", role="manager", csm_seat=True, active=True)
        create_user(session, data=data, actor=cli_user(session))
    path = tmp_path / "large.csv"
    bad = write_large_file(path, ROWS)

    report, errors = run_import(engine, path)

    # A bad parent row takes its nine children with it (their parent does not exist).
    assert report.failed == bad + 0
    assert report.created == ROWS - bad
    assert report.rows_read == ROWS
    assert len(errors.splitlines()) == 1 + bad
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == ROWS - bad
        assert session.scalar(select(func.max(Account.depth))) == 1
        owned = session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.ended_at.is_(None))
        )
    assert owned == sum(1 for i in range(ROWS) if i % 3 == 0 and i % 100 != 50)
