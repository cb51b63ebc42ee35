"""The import's error file is written by the shared formula-safe writer, every column of it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from bookwise.csvsafe import is_dangerous
from tests.cli.conftest import Cli
from tests.importing.helpers import write_rows

PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def test_no_cell_of_the_error_file_runs_in_a_spreadsheet(cli: Cli, tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "accounts.csv",
        "external_id,name,@mrr,+health",
        ['A1,Acme,"=HYPERLINK(""http://x"",""y"")",-1+2', "A2,Globex,@SUM(1),\t=1"],
    )

    cli.ok("import", "accounts", str(path), "--map", "@mrr=mrr", "--map", "+health=health_score")

    with (tmp_path / "accounts.csv.errors.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert {row["column"] for row in rows} == {"'@mrr", "'+health"}
    assert '\'=HYPERLINK("http://x","y")' in {row["value"] for row in rows}
    for row in rows:
        for value in row.values():
            assert not is_dangerous(value) or PLAIN_NUMBER.fullmatch(value), row
