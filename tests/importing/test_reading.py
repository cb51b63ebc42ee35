"""Reading a CSV strictly: a syntax error stops the import and names its line (issue 14, 5),
and a bad reading option is refused before any row is read (issue 14, 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bookwise.errors import InvalidInput
from bookwise.importing.accounts import ImportOptions
from tests.cli.conftest import Cli
from tests.importing.helpers import accounts_by_external_id, run_import, write_rows

HEADER = "external_id,name,region"


def test_an_unterminated_quote_stops_the_import_at_the_line_it_opened(
    engine: Engine, tmp_path: Path
) -> None:
    # Parsed leniently, the quote swallowed lines 3-5 into one cell: "2 rows read, 0 failed".
    path = write_rows(
        tmp_path / "quote.csv",
        HEADER,
        ["A1,Fine,emea", 'A2,"Broken,emea', "A3,Swallowed,apac", "A4,Swallowed too,amer"],
    )

    with pytest.raises(InvalidInput) as raised:
        run_import(engine, path)

    assert "quote.csv, line 3:" in raised.value.message
    assert "never closed" in raised.value.message
    assert accounts_by_external_id(engine) == {}


def test_the_line_named_is_where_the_quote_opened_inside_a_long_record(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_rows(
        tmp_path / "quote.csv",
        HEADER,
        ['A1,"Two\nlines",emea', 'A2,"Also\ntwo",emea', 'A3,Fine,"open', "A4,x,y"],
    )

    with pytest.raises(InvalidInput) as raised:
        run_import(engine, path)

    assert "quote.csv, line 6:" in raised.value.message


def test_text_after_a_closing_quote_is_a_syntax_error(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "quote.csv", HEADER, ["A1,Fine,emea", 'A2,"Odd"ly,emea'])

    with pytest.raises(InvalidInput) as raised:
        run_import(engine, path)

    assert "quote.csv, line 3:" in raised.value.message
    assert accounts_by_external_id(engine) == {}


def test_a_quote_inside_an_unquoted_cell_is_data(engine: Engine, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "inch.csv", HEADER, ['A1,5" screens,emea'])

    report, _ = run_import(engine, path)

    assert report.created == 1
    assert accounts_by_external_id(engine)["A1"].name == '5" screens'


@pytest.mark.parametrize("encoding", ["base64", "rot13", "no-such-codec", "unicode_escape"])
def test_an_encoding_that_is_not_a_character_set_is_refused_up_front(encoding: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        ImportOptions(encoding=encoding)

    assert f"encoding {encoding!r}" in raised.value.message


@pytest.mark.parametrize("date_format", ["%d%d", "%H:%M", "%Y", "%Q/%m", "%d/%m"])
def test_a_date_format_that_names_no_whole_date_is_refused_up_front(date_format: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        ImportOptions(date_format=date_format)

    assert f"date format {date_format!r}" in raised.value.message


def test_good_options_are_accepted() -> None:
    ImportOptions(encoding="cp1252", date_format="%d/%m/%Y")
    ImportOptions(encoding="UTF_16LE", date_format="%b %d, %Y")


def test_the_cli_says_a_bad_option_in_one_line(cli: Cli, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.csv", "external_id,name,renewal_date", ["A1,One,01/02/2027"])

    assert "encoding 'base64'" in cli.fails("import", "accounts", str(path), "--encoding", "base64")
    assert "date format '%d%d'" in cli.fails(
        "import", "accounts", str(path), "--date-format", "%d%d"
    )
    assert "encoding 'base64'" in cli.fails("import", "users", str(path), "--encoding", "base64")
