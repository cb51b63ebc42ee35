"""bookwise reports team: the contract of issue 16 through the real command."""

from __future__ import annotations

import csv
import io

from tests.cli.conftest import Cli


def _book(cli: Cli) -> None:
    cli.csm("ana@example.com", "--name", "Ana Silva")
    cli.csm("ben@example.com", "--name", "Ben Ode")
    cli.account("P", "--mrr", "100", "--health-score", "80", "--nps", "30")
    cli.account("C", "--parent", "P", "--mrr", "50.01", "--health-score", "20")
    cli.ok("assign", "P", "C", "--to", "ana@example.com")
    cli.ok("assign", "C", "--to", "ben@example.com")


def test_json_carries_the_contract_and_the_mode(cli: Cli) -> None:
    _book(cli)
    report = cli.json("reports", "team")
    assert report["counting"] == "all"
    assert report["total"] == 2
    ana = report["items"][0]
    assert {k: ana[k] for k in ("email", "name", "accounts", "mrr", "avg_health", "avg_nps")} == {
        "email": "ana@example.com",
        "name": "Ana Silva",
        "accounts": 2,
        "mrr": "150.01",
        "avg_health": "50.00",
        "avg_nps": "30.00",
    }
    assert ana["avg_csm_rating"] is None
    assert (report["team_accounts"], report["team_mrr"]) == (2, "150.01")

    rollup = cli.json("reports", "team", "--counting", "rollup")
    assert [(r["name"], r["accounts"], r["mrr"]) for r in rollup["items"]] == [
        ("Ana Silva", 1, "150.01"),
        ("Ben Ode", 1, "50.01"),
    ]
    split = cli.json("reports", "team", "--counting", "split", "--as-of", "today")
    assert [(r["accounts"], r["mrr"]) for r in split["items"]] == [
        ("1.500", "125.01"),
        ("0.500", "25.00"),
    ]
    assert split["as_of"] is not None


def test_table_prints_the_mode_beside_the_figures_and_csv_names_first(cli: Cli) -> None:
    _book(cli)
    out = cli.ok("reports", "team", "--counting", "top-level").stdout
    assert "Ana Silva" in out
    assert "counting: top-level — As all, but only accounts without a parent." in out
    assert "team: 1 distinct accounts, mrr 100.00" in out
    rows = list(csv.DictReader(io.StringIO(cli.ok("reports", "team", "--format", "csv").stdout)))
    assert list(rows[0])[:3] == ["name", "email", "active"]
    assert rows[1]["accounts"] == "1"


def test_bad_input_says_where_and_why(cli: Cli) -> None:
    assert "--as-of" in cli.fails("reports", "team", "--as-of", "soon")
    rule = cli.run("reports", "team", "--where", "tier =")
    assert rule.exit_code == 1
    assert "invalid rule" in rule.stderr
    assert "column 7" in rule.stderr
    result = cli.run("reports", "team", "--counting", "sum")
    assert result.exit_code == 2
    assert "top-level" in result.output
