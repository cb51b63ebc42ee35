"""Cells no column can hold are errors of their row, never of the whole file (issue 14, 9)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from bookwise.accounts.service import declare_attribute
from bookwise.db import write_session
from bookwise.users.service import cli_user
from tests.importing.helpers import accounts_by_external_id, run_import


def _file(tmp_path: Path, header: str, bad: str) -> Path:
    path = tmp_path / "cells.csv"
    text = f"{header}\nA1,Good,5\n{bad}\nA3,Also good,7\n"
    path.write_bytes(text.encode())
    return path


def _one_bad_line(engine: Engine, path: Path) -> tuple[str, str, str]:
    report, errors = run_import(engine, path)
    assert (report.rows_read, report.created, report.failed) == (3, 2, 1), report.errors
    assert set(accounts_by_external_id(engine)) == {"A1", "A3"}
    assert errors.count("\n") == 2  # the header and the one bad line
    (problem,) = report.errors
    assert problem.line == 3
    return problem.column, problem.value, problem.reason


def test_an_amount_beyond_64_bits_fails_its_row(engine: Engine, tmp_path: Path) -> None:
    column, _, reason = _one_bad_line(
        engine, _file(tmp_path, "external_id,name,mrr", "A2,Huge,1e20")
    )

    assert column == "mrr"
    assert "too large" in reason


def test_a_nul_character_fails_its_row(engine: Engine, tmp_path: Path) -> None:
    # PostgreSQL cannot store NUL in text (COPY failed the whole file); SQLite could: refused
    # on both so that a file means the same on either.
    column, value, reason = _one_bad_line(
        engine, _file(tmp_path, "external_id,name,health_score", "A2,Nul\x00here,5")
    )

    assert column == "name"
    assert "\x00" not in value
    assert "NUL" in reason


def test_a_nul_in_a_bad_value_is_reported_without_it(engine: Engine, tmp_path: Path) -> None:
    column, value, _ = _one_bad_line(
        engine, _file(tmp_path, "external_id,name,health_score", "A2,Fine,5\x007")
    )

    assert column == "health_score"
    assert "\x00" not in value


def test_infinite_and_huge_numbers_fail_their_row(engine: Engine, tmp_path: Path) -> None:
    for n, cell in enumerate(["Infinity", "1e999999999", "NaN"]):
        path = tmp_path / f"n{n}.csv"
        path.write_text(f"external_id,name,health_score\nB{n},Bad,{cell}\nG{n},Good,5\n")
        report, _ = run_import(engine, path)
        assert (report.created, report.failed) == (1, 1), (cell, report.errors)


def test_a_custom_number_out_of_range_fails_its_row(engine: Engine, tmp_path: Path) -> None:
    with write_session(engine) as session:
        declare_attribute(session, name="seats", type="number", actor=cli_user(session))
        declare_attribute(session, name="budget", type="money", actor=cli_user(session))
    path = tmp_path / "custom.csv"
    path.write_text(
        "external_id,name,seats,budget\n"
        "C1,Inf,1e400,\nC2,NaN,nan,\nC3,Money,,1e30\nC4,Good,12,5.00\n"
    )

    report, _ = run_import(engine, path)

    assert (report.created, report.failed) == (1, 3), report.errors
    assert accounts_by_external_id(engine)["C4"].custom == {"seats": 12, "budget": 500}
