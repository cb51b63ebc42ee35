"""Every ``--format csv`` of the CLI is formula-safe, as ``export`` is (CWE-1236)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import typer.main

from bookwise.cli import app
from bookwise.cli.output import OutputFormat
from bookwise.csvsafe import is_dangerous
from tests.cli.conftest import Cli

HYPERLINK = '=HYPERLINK("http://x","y")'
DANGEROUS_NAMES = [HYPERLINK, "+1+1", "-2+3", "@SUM(1)"]
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
EVE = "eve@example.com"


def _csv_commands() -> set[tuple[str, ...]]:
    """Every command path whose --format offers csv."""
    found: set[tuple[str, ...]] = set()

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))
        for param in command.params:
            if "--format" in param.opts and param.type_descriptor.annotation is OutputFormat:
                found.add(path)

    walk(typer.main.get_command(app), ())
    return found


def _book(cli: Cli) -> None:
    """Accounts, a user, a segment, a role, an attribute, a token and an operation whose text
    starts with every formula trigger."""
    cli.ok("users", "add", EVE, "--name", HYPERLINK, "--csm-seat", "--role", "manager")
    cli.ok("users", "add", "ben@example.com", "--name", "@ben", "--csm-seat", "--external-id", "-7")
    for n, name in enumerate(DANGEROUS_NAMES):
        cli.ok("accounts", "add", "--external-id", f"A{n}", "--region", "=EMEA", "--", name)
    cli.ok("attributes", "add", "plan", "--type", "text", "--description", "=1+1")
    cli.ok("roles", "add", "advisor", "--description", "+advisor")
    cli.ok("segments", "create", "=seg", "--rule", 'region = "=EMEA"', "--description", "-all")
    cli.ok("assign", "A0", "A1", "A2", "A3", "--to", EVE, "--reason", "\t=reason()")
    cli.ok("tokens", "create", EVE, "--name", "@token")


RUNS: dict[tuple[str, ...], list[str]] = {
    ("csms",): ["csms"],
    ("history",): ["history", "A0"],
    ("operations", "list"): ["operations", "list"],
    ("operations", "show"): ["operations", "show", "1"],  # the assign in _book
    ("rules", "fields"): ["rules", "fields"],
    ("segments", "list"): ["segments", "list"],
    ("segments", "members"): ["segments", "members", "=seg"],
    ("segments", "refresh"): ["segments", "refresh"],
    ("tokens", "list"): ["tokens", "list"],
    ("users", "list"): ["users", "list"],
    ("accounts", "list"): ["accounts", "list"],
    ("accounts", "values"): ["accounts", "values", "A0"],  # region "=EMEA"
    ("attributes", "list"): ["attributes", "list"],
    ("roles", "list"): ["roles", "list"],
    ("reports", "team"): ["reports", "team"],  # Eve's name "=HYPERLINK(…)"
}


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_every_csv_listing_is_covered_here() -> None:
    assert _csv_commands() == set(RUNS)


def test_no_csv_listing_writes_a_cell_a_spreadsheet_would_run(cli: Cli) -> None:
    _book(cli)
    for command, args in RUNS.items():
        rows = _cells(cli.ok(*args, "--format", "csv").stdout)
        assert len(rows) >= 2, f"{command}: no rows to check"
        for row in rows:
            for value in row:
                safe = not is_dangerous(value) or PLAIN_NUMBER.fullmatch(value)
                assert safe, f"{' '.join(command)} wrote {value!r}"


def test_listing_cells_carry_the_exports_prefix_and_numbers_stay_numbers(cli: Cli) -> None:
    _book(cli)
    cli.ok("accounts", "add", "Owes", "--external-id", "N1", "--nps", "-40", "--mrr", "-5.00")
    rows = list(
        csv.DictReader(
            io.StringIO(cli.ok("accounts", "list", "--sort", "name", "--format", "csv").stdout)
        )
    )
    names = {row["name"] for row in rows}
    assert {"'" + name for name in DANGEROUS_NAMES} <= names
    owes = next(row for row in rows if row["external_id"] == "N1")
    assert (owes["nps"], owes["mrr"]) == ("-40", "-5.00")  # numbers are not text
    history = list(csv.DictReader(io.StringIO(cli.ok("history", "A0", "--format", "csv").stdout)))
    assert history[0]["reason"] == "'\t=reason()"
    members = _cells(cli.ok("segments", "members", "=seg", "--format", "csv").stdout)
    assert ["'" + HYPERLINK in row for row in members[1:]].count(True) == 1
