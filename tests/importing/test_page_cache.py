"""An import runs with its own bulk-load settings and gives the connection's own back after:
a small SQLite page cache (the read cache stays for the reads that follow), and no JIT on
PostgreSQL (docs/deploying.md)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bookwise.db import write_session
from bookwise.importing import accounts as importing
from bookwise.importing.accounts import import_accounts
from bookwise.users.service import cli_user
from tests.importing.helpers import run_import


def _setting_during_merge(monkeypatch: pytest.MonkeyPatch, query: str) -> list[Any]:
    """What ``query`` answers on the import's connection while the merge runs."""
    seen: list[Any] = []
    merge_file = importing._merge

    def merge_and_look(m, report):  # type: ignore[no-untyped-def]
        seen.append(m.session.connection().exec_driver_sql(query).scalar_one())
        merge_file(m, report)

    monkeypatch.setattr(importing, "_merge", merge_and_look)
    return seen


def _small_file(tmp_path: Path) -> Path:
    source = tmp_path / "a.csv"
    source.write_text("external_id,name\nX1,One\nX2,Two\n")
    return source


def test_the_import_runs_with_the_import_cache_and_restores_the_read_cache(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the page cache is SQLite's; PostgreSQL's buffers belong to the server")
    seen = _setting_during_merge(monkeypatch, "PRAGMA cache_size")
    with write_session(engine) as session:
        before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
    run_import(engine, _small_file(tmp_path))

    assert seen == [-8 * 1024]  # BOOKWISE_SQLITE_IMPORT_CACHE_MIB's default, in KiB
    with write_session(engine) as session:
        after = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
    assert before == after == -256 * 1024


def test_the_import_runs_without_jit_on_postgresql_and_gives_the_setting_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    seen = _setting_during_merge(monkeypatch, "SHOW jit")
    with write_session(engine) as session:
        session.connection().exec_driver_sql("SET LOCAL jit = on")
        source = _small_file(tmp_path)
        import_accounts(session, path=source, actor=cli_user(session), errors=io.StringIO())
        after = session.connection().exec_driver_sql("SHOW jit").scalar_one()

    assert seen == ["off"]
    assert after == "on"
