"""Formula safety of whole export files (CWE-1236), without a database.

Hypothesis draws 10,000 text values (triggers after white space, NBSP or an embedded line
break, and arbitrary text), puts each in every text field of an account record, writes it
through the same function the database export uses, parses the file back with the csv module,
and checks that no text cell would run as a formula, that ``restore`` gives the original back,
and that the numeric columns are untouched.
"""

from __future__ import annotations

import io
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bookwise.csvsafe import restore
from bookwise.exporting.accounts import AccountRecord, account_fields, write_account_records
from bookwise.exporting.csvout import CsvExport, Field, render
from bookwise.models import AttributeDefinition
from tests.exporting.helpers import parse_export, spreadsheet_would_run

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n"]
SPACES = ["", " ", "  ", "\u00a0", "\u2003", " \u00a0", "\t"]
BEFORE = ["", "Acme\n", "x\r\n", "'", "a\r", "b\u2028"]
# Text a database can hold: no NUL, no lone surrogates.
plain = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20)
hostile = st.builds(
    lambda before, space, trigger, after: before + space + trigger + after,
    st.sampled_from(BEFORE),
    st.sampled_from(SPACES),
    st.sampled_from(TRIGGERS),
    plain,
)
texts = hostile | plain
DEFINITIONS = [
    AttributeDefinition(name="plan", type="text"),
    AttributeDefinition(name="seats", type="number"),
    AttributeDefinition(name="budget", type="money"),
]
TEXT_COLUMNS = [
    "external_id",
    "name",
    "parent_external_id",
    "domain",
    "lifecycle_stage",
    "region",
    "csms",
    "custom.plan",
]


@st.composite
def records(draw: st.DrawFn) -> tuple[AccountRecord, list[str], str]:
    """One hostile text value in every text field of an account, with ordinary numbers."""
    value = draw(texts)
    record = AccountRecord(
        id=1,
        external_id=value,
        name=value,
        parent_external_id=value,
        domain=value,
        mrr=draw(st.integers(-(10**12), 10**12)),
        health_score=draw(st.integers(0, 100)),
        tier=draw(st.integers(1, 99)),
        lifecycle_stage=value,
        nps=draw(st.integers(-100, 100)),
        csm_rating=draw(st.integers(1, 5)),
        region=value,
        renewal_date=draw(st.dates(date(1990, 1, 1), date(2100, 1, 1))),
        inherit_policy="own",
        custom={"plan": value, "seats": draw(st.integers(-(10**9), 10**9)), "budget": -1},
    )
    return record, [value] if value else [], value


@settings(max_examples=10_000, deadline=None)
@given(records())
def test_no_exported_text_cell_runs_and_every_cell_comes_back(
    drawn: tuple[AccountRecord, list[str], str],
) -> None:
    record, owners, value = drawn
    out = io.StringIO(newline="")
    assert write_account_records(out, [(record, owners)], DEFINITIONS) == 1
    (row,) = parse_export(out.getvalue())
    assert list(row) == [f.name for f in account_fields(DEFINITIONS)]
    for column in TEXT_COLUMNS:
        assert not spreadsheet_would_run(row[column]), (column, row[column])
        assert restore(row[column]) == value, column
    assert row["mrr"] == _cents(record.mrr)
    for column in ("health_score", "tier", "nps", "csm_rating"):
        assert row[column] == str(getattr(record, column))
    assert row["renewal_date"] == record.renewal_date.isoformat()  # type: ignore[union-attr]
    assert row["custom.seats"] == str((record.custom or {})["seats"])
    assert row["custom.budget"] == "-0.01"


def _cents(minor: int | None) -> str:
    assert minor is not None
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def test_numbers_dates_and_money_are_never_prefixed() -> None:
    assert render("number", -20) == "-20"
    assert render("money", -150) == "-1.50"
    assert render("date", date(2027, 1, 31)) == "2027-01-31"
    assert render("boolean", False) == "false"
    assert render("text", "-20") == "'-20"
    assert render("text", None) == render("money", None) == ""


def test_a_value_not_of_its_declared_type_is_exported_as_safe_text() -> None:
    assert render("number", "=1+1") == "'=1+1"
    assert render("money", "@x") == "'@x"
    assert render("date", "-2027") == "'-2027"


def test_every_cell_is_quoted_with_crlf_and_the_marker_first() -> None:
    out = io.StringIO(newline="")
    export = CsvExport(out, [Field("name"), Field("n", "number")])
    export.write(["a;=1+1", 3])
    assert out.getvalue() == '# bookwise export v1\r\n"name","n"\r\n"a;=1+1","3"\r\n'
