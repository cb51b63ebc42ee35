"""The CLI under test: the real Typer app on the test's database, through CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from bookwise import db
from bookwise.cli import app
from bookwise.config import get_settings

_BUILT: dict[int, Any] = {}


def _built_once(typer_app: Any) -> Any:
    """Typer rebuilds the whole Click tree on every invoke (~0.15 s); build it once per run."""
    key = id(typer_app)
    if key not in _BUILT:
        _BUILT[key] = typer.main.get_command(typer_app)
    return _BUILT[key]


def _clear_caches() -> None:
    get_settings.cache_clear()
    db._cached_engine.cache_clear()


@dataclass
class Cli:
    """Runs ``bookwise`` commands in-process and checks their outcome."""

    runner: CliRunner = field(default_factory=CliRunner)

    def run(self, *args: str, input: str | None = None) -> Result:
        """Run a command; whatever happens is in the Result."""
        return self.runner.invoke(app, list(args), input=input, prog_name="bookwise")

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must succeed."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (
            f"bookwise {' '.join(args)} exited {result.exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        """Run a command with ``--format json`` and parse its output."""
        return json.loads(self.ok(*args, "--format", "json", input=input).stdout)

    def fails(self, *args: str, code: int = 1) -> str:
        """Run a command that must fail with one ``error:`` line; return that line."""
        result = self.run(*args)
        assert result.exit_code == code, (
            f"expected exit {code}, got {result.exit_code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"
        )
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
        assert lines[0].startswith("error: ")
        assert "Traceback" not in result.output
        return lines[0]

    # --- set-up shortcuts ------------------------------------------------------------------

    def csm(self, email: str, *extra: str) -> str:
        """Add an active user with a CSM seat."""
        self.ok("users", "add", email, "--csm-seat", "--role", "manager", *extra)
        return email

    def account(self, external_id: str, *extra: str) -> str:
        """Add an account with this external id."""
        self.ok("accounts", "add", f"Account {external_id}", "--external-id", external_id, *extra)
        return external_id

    def owners(self, ref: str, role: str = "csm") -> list[str]:
        """The account's current owners for ``role``, as ``accounts show`` reports them."""
        shown = self.json("accounts", "show", ref)
        return sorted(o["email"] for o in shown["owners"].get(role, []))

    def count(self, *filters: str) -> int:
        """``accounts list --count`` with these filters."""
        return int(self.ok("accounts", "list", *filters, "--count").stdout.strip())


def point_cli_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Make the CLI use ``url`` (settings and engine are cached per process)."""
    monkeypatch.setenv("BOOKWISE_DATABASE_URL", url)
    monkeypatch.delenv("BOOKWISE_ACTOR", raising=False)
    monkeypatch.setattr(typer.testing, "_get_command", _built_once)
    _clear_caches()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI on a freshly migrated, empty database."""
    point_cli_at(monkeypatch, database_url)
    yield Cli()
    db.get_engine().dispose()
    _clear_caches()
