"""The root Typer app: the global ``--as`` option, lazy commands, and errors as one line."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
import typer.main
from typer import _click
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup


@dataclass(frozen=True)
class LazyCommand:
    """A command of the root app, imported only when it runs or its own help is shown.

    ``summary`` is the first paragraph of its help, which ``bookwise --help`` lists without
    importing the module (tests/cli/test_startup.py checks that it matches the command's).
    """

    module: str  # under bookwise.cli
    attribute: str  # a command function, or a sub-app (typer.Typer)
    summary: str


# The root app's commands, in the order ``bookwise --help`` lists them (bookwise.cli fills it).
LAZY_COMMANDS: dict[str, LazyCommand] = {}


def _load(name: str, entry: LazyCommand) -> _click.Command:
    """Import the command's module and build its Click command the way Typer would."""
    target = getattr(importlib.import_module(f"bookwise.cli.{entry.module}"), entry.attribute)
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    holder.callback()(lambda: None)  # a group, whatever the number of its commands
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group = typer.main.get_group(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class _Commands(MutableMapping[str, _click.Command]):
    """The root's commands by name: a lazy one is imported on first use, then kept."""

    def __init__(self, eager: MutableMapping[str, _click.Command]) -> None:
        self._loaded = dict(eager)

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._loaded:
            entry = LAZY_COMMANDS.get(name)
            if entry is None:
                raise KeyError(name)
            self._loaded[name] = _load(name, entry)
        return self._loaded[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from LAZY_COMMANDS
        yield from (name for name in self._loaded if name not in LAZY_COMMANDS)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def is_loaded(self, name: str) -> bool:
        """True when the command's module has been imported and its command built."""
        return name in self._loaded


class BookwiseGroup(TyperGroup):
    """The root command: imports a command's module only when that command is used, and
    turns expected failures into ``error: <message>`` on stderr and exit code 1."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command's name, without importing any of them."""
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """List the commands with the summaries registered for them (no import)."""
        commands: _Commands = self.commands  # type: ignore[assignment]
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if commands.is_loaded(name) or name not in LAZY_COMMANDS:
                rows.append((name, commands[name].get_short_help_str(limit)))
            else:
                rows.append((name, make_default_short_help(LAZY_COMMANDS[name].summary, limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; print a known failure as one line instead of a traceback."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            from bookwise.cli.runtime import describe_failure

            # Usage errors and exits are not described here, so they keep Typer's handling.
            message = describe_failure(exc)
            if message is None:
                raise
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="bookwise",
    cls=BookwiseGroup,
    help="bookwise decides and remembers which Customer Success Manager owns which account.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


@app.callback()
def root(
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="EMAIL",
            help="Act as this user for every write (else BOOKWISE_ACTOR, else the built-in "
            "cli user). Write commands also take --as themselves.",
        ),
    ] = None,
) -> None:
    """bookwise decides and remembers which Customer Success Manager owns which account."""
    from bookwise.cli.runtime import set_global_actor  # the database layer, for commands only

    set_global_actor(actor)


def main() -> None:
    """Entry point of the ``bookwise`` command and ``python -m bookwise``."""
    app(prog_name="bookwise")
