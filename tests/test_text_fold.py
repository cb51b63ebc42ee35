"""text_fold lower-cases the same way on SQLite and PostgreSQL, Unicode included."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, String, literal, select

from bookwise.db import text_fold

# Each pair: text, and what both databases must make of it (per-character simple lower case).
CASES = [
    ("EMEA", "emea"),
    ("École Normale", "école normale"),
    ("ÄÖÜ straße", "äöü straße"),
    ("ΟΔΟΣ", "οδοσ"),  # no final-sigma context rule: Σ is σ wherever it stands
    ("ΟΔΟΣ.example", "οδοσ.example"),
    ("İSTANBUL", "istanbul"),  # İ has a one-character simple lower case: i
    ("МОСКВА", "москва"),
    ("ẞ", "ß"),
    ("ǅ", "ǆ"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_text_fold_matches_on_both_databases(engine: Engine, text: str, expected: str) -> None:
    with engine.connect() as conn:
        folded = conn.scalar(select(text_fold(literal(text, String()))))
    assert folded == expected


def test_text_fold_keeps_null(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.scalar(select(text_fold(literal(None, String())))) is None
