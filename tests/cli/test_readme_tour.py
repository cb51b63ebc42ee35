"""The README's five-minute tour runs as written, command by command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from bookwise import db
from tests.cli.conftest import Cli

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_commands() -> list[list[str]]:
    """Every ``bookwise …`` line of the tour's code blocks, in order."""
    text = README.read_text(encoding="utf-8")
    tour = text.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```\n(.*?)```", tour, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("bookwise "):
                commands.append(shlex.split(line)[1:])
    return commands


def test_the_tour_runs_as_written(cli: Cli) -> None:
    commands = tour_commands()
    assert len(commands) > 15, "the tour lost its commands"
    fingerprint = None
    for args in commands:
        if args == ["init"]:
            continue  # the test database is initialised already
        args = [fingerprint if a == "F" and fingerprint else a for a in args]
        if args[:2] == ["operations", "undo"]:
            # the README names the transfer's id as SQLite numbers it; look it up instead
            listed = cli.json("operations", "list")["items"]
            args[2] = str(next(op["id"] for op in listed if op["kind"] == "transfer"))
        output = cli.ok(*args).stdout
        if args[0] == "history" and "--on" in args:
            # the tour's owners on a day must be there whichever day it runs
            assert "nothing matches" not in output, (args, output)
        found = re.search(r"fingerprint: (\w+)", output)
        if found:
            fingerprint = found.group(1)
    # what the tour says about its own state
    assert cli.owners("GLOBEX-FR") == ["ana@example.com"]  # the transfer was undone
    if db.get_engine().dialect.name == "sqlite":
        operations = cli.json("operations", "list")["items"]
        assert {op["id"]: op["kind"] for op in operations}[4] == "transfer"  # as the README says
