"""docs/cli.md, generated from the Typer app: ``python -m bookwise.cli.reference > docs/cli.md``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main

from bookwise.cli import app

HELP_WIDTH = 100
REGENERATE = "python -m bookwise.cli.reference > docs/cli.md"

INTRO = f"""\
# The bookwise command line

Every command below works on the database named by `BOOKWISE_DATABASE_URL` (default
`sqlite:///bookwise.db`; run `bookwise init` once to create it). Users are named by email
everywhere; accounts by external id or numeric id. Every listing takes
`--format table|csv|json`; JSON listings have the shape `{{"items": [...], "total": N, ...}}`,
and CSV is formula-safe as exports are (a text cell a spreadsheet would run starts with `'`).
Operations (`assign`, `unassign`, `transfer`, `inherit`, `accounts set-parent`,
`accounts set-policy`, `users deactivate`, `operations undo`) print their full result with
`--format json`. Money is printed in currency units as a decimal string (`"5000.00"`). Every
write is one transaction and is attributed to an actor: `--as EMAIL` (given after a write
command, or before any command as a global option), else `BOOKWISE_ACTOR`, else the built-in
`cli` user. Operations accept `--dry-run`, which previews the change set (counts, per-id
outcomes, a sample, and a fingerprint) and writes nothing, or says "nothing would change" (and
prints no fingerprint) when that is so; `assign`, `unassign` and `transfer` apply only when
`--fingerprint F` still matches. Errors print one line, `error: <message>`,
on stderr and exit with status 1 (2 for a malformed command line).

This file is generated from the commands' own help; regenerate it with `{REGENERATE}`.
"""


def _helps(command: Any, path: list[str], parent: Any) -> Iterator[tuple[list[str], str]]:
    """(path, --help text) of ``command`` and every command below it, in registration order."""
    name = path[-1] if path else "bookwise"
    extra = {} if parent is not None else {"terminal_width": HELP_WIDTH}
    ctx = command.make_context(name, [], parent=parent, resilient_parsing=True, **extra)
    text = "\n".join(line.rstrip() for line in command.get_help(ctx).strip().splitlines())
    yield path, text
    for sub_name, sub in getattr(command, "commands", {}).items():
        yield from _helps(sub, [*path, sub_name], ctx)


def render_cli_reference() -> str:
    """The Markdown text of docs/cli.md: the intro, then every command's help."""
    parts = [INTRO]
    for path, text in _helps(typer.main.get_command(app), [], None):
        level = "###" if len(path) > 1 else "##"
        parts.append(f"{level} `{' '.join(['bookwise', *path])}`\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render_cli_reference(), end="")
