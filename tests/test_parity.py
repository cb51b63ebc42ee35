"""Issue 15: every CLI command has a REST API route and a web page, or a reason not to.

The commands come from the Typer app (as docs/cli.md does), the routes and pages from the
FastAPI app (as the role matrix does); ``bookwise.parity`` is checked against both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from sqlalchemy import create_engine

from bookwise.cli import app as cli_app
from bookwise.http.app import create_app
from bookwise.parity import NOT_YET, PARITY, Parity
from tests.http.test_roles import endpoints


def _leaves(command: Any, path: list[str]) -> Iterator[str]:
    sub = getattr(command, "commands", None)
    if sub is None:
        yield " ".join(path)
        return
    for name, child in sub.items():
        yield from _leaves(child, [*path, name])


def cli_commands() -> list[str]:
    """Every command a person can run (``users add``, not the ``users`` group)."""
    return list(_leaves(typer.main.get_command(cli_app), []))


def served() -> set[str]:
    """Every ``METHOD /path`` the web app serves: the API and the pages."""
    app = create_app(create_engine("sqlite://"))
    return {f"{e.method} {e.path}" for e in endpoints(app)}


ROUTES = served()


def test_the_walks_find_what_they_should() -> None:
    # Teeth for the two walks: a wrong walk would make every check below pass vacuously.
    assert {"users add", "import users", "serve", "segments delete"} <= set(cli_commands())
    assert {"POST /api/v1/users", "GET /users", "POST /import"} <= ROUTES


def test_every_cli_command_is_listed_once_and_nothing_else() -> None:
    listed = [row.command for row in PARITY]
    assert len(listed) == len(set(listed)), "a command is listed twice in bookwise.parity"
    commands = cli_commands()
    assert sorted(set(commands) - set(listed)) == [], (
        "add these commands to bookwise.parity.PARITY with their API routes and web pages "
        "(or a reason one is missing)"
    )
    assert sorted(set(listed) - set(commands)) == [], "bookwise.parity lists no such command"


def refusal(row: Parity) -> str:
    """Why ``row`` fails the parity rule, or "" when it holds."""
    lacking = [name for name, have in (("API route", row.api), ("web page", row.web)) if not have]
    if lacking and len(row.missing) < len(NOT_YET):
        return (
            f"bookwise {row.command} has no {' and no '.join(lacking)}: build it, or say why "
            "in `missing` (it is shown in docs/api.md)"
        )
    if not lacking and row.missing:
        return f"bookwise {row.command} has both now: drop its reason"
    return ""


def misnamed(row: Parity) -> list[str]:
    """The routes and pages ``row`` names that the app does not serve, or serves elsewhere."""
    wrong = [r for r in row.api if not r.partition(" ")[2].startswith("/api/v1/")]
    wrong += [r for r in row.web if r.partition(" ")[2].startswith("/api/")]
    return wrong + sorted(set(row.api + row.web) - ROUTES)


@pytest.mark.parametrize("row", PARITY, ids=lambda row: row.command)
def test_each_command_has_an_api_route_and_a_page_or_a_reason(row: Parity) -> None:
    assert refusal(row) == ""


@pytest.mark.parametrize("row", PARITY, ids=lambda row: row.command)
def test_every_route_and_page_named_exists(row: Parity) -> None:
    assert misnamed(row) == [], f"bookwise {row.command}: the app serves no such route or page"


def test_the_checks_refuse_a_gap_without_reason_and_a_route_that_does_not_exist() -> None:
    assert "has no API route and no web page" in refusal(Parity("made up"))
    assert "no web page" in refusal(Parity("made up", api=("GET /api/v1/users",)))
    assert "drop its reason" in refusal(
        Parity("made up", api=("GET /api/v1/users",), web=("GET /users",), missing=NOT_YET)
    )
    assert misnamed(Parity("made up", api=("GET /api/v1/nowhere", "GET /users"))) == [
        "GET /users",
        "GET /api/v1/nowhere",
    ]
