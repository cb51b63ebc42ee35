"""docs/cli.md is generated from the app; it must match what the commands say about themselves."""

from __future__ import annotations

from pathlib import Path

import typer.main

from bookwise.cli import app
from bookwise.cli.reference import INTRO, REGENERATE, render_cli_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _all_commands(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path] if path else []
    for name, sub in getattr(command, "commands", {}).items():
        found += _all_commands(sub, (*path, name))
    return found


def test_docs_cli_md_is_current() -> None:
    expected = render_cli_reference()
    actual = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert actual == expected, f"docs/cli.md is out of date; regenerate it with: {REGENERATE}"


def test_every_command_is_documented_with_help() -> None:
    text = render_cli_reference()
    assert text.startswith(INTRO)
    commands = _all_commands(typer.main.get_command(app))
    assert ("assign",) in commands
    assert ("accounts", "set-policy") in commands
    for path in commands:
        assert f"`bookwise {' '.join(path)}`" in text, path
    for option in ("--not-assigned-to", "--who", "--fingerprint", "--ids-from", "--as"):
        assert option in text
