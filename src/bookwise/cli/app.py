"""The root Typer app: the global ``--as`` option and the one place errors become one line."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from bookwise.cli.runtime import describe_failure, set_global_actor


class BookwiseGroup(TyperGroup):
    """Turns expected failures into ``error: <message>`` on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; print a known failure as one line instead of a traceback."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
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
    set_global_actor(actor)


def main() -> None:
    """Entry point of the ``bookwise`` command and ``python -m bookwise``."""
    app(prog_name="bookwise")
