"""``bookwise export accounts|users|history``: formula-safe CSV export."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from sqlalchemy.orm import Session

from bookwise.cli.options import (
    HistoryCsmOption,
    HistoryOnOption,
    HistoryRefArgument,
    HistoryRoleOption,
    SortOption,
    history_day,
)
from bookwise.cli.output import say
from bookwise.cli.runtime import reading
from bookwise.cli.selecting import (
    AssignedToOption,
    FilterArgs,
    NotAssignedToOption,
    RoleOption,
    SegmentOption,
    UnassignedOption,
    WhereOption,
    WhoOption,
)
from bookwise.errors import InvalidInput
from bookwise.exporting import write_accounts_csv, write_history_csv, write_users_csv

export_app = typer.Typer(help="Export accounts, users and history as CSV.", no_args_is_help=True)

OutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE|-",
        help="Write the CSV to FILE (replaced only when the export succeeds), or - for stdout.",
    ),
]


@contextmanager
def _opened(output: str) -> Iterator[TextIO]:
    """UTF-8 (no BOM) text with the csv module's CRLF kept as is, to a file or stdout."""
    if output == "-":
        sys.stdout.flush()
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stream
        finally:
            stream.flush()
            stream.detach()
        return
    target = Path(output)
    # Write next to the target and rename at the end: a failed export leaves no half file.
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _export(output: str, what: str, write: Callable[[Session, TextIO], int]) -> None:
    """Run ``write`` in one read transaction to ``output``; report the count for a file."""
    if output != "-" and not Path(output).parent.is_dir():
        raise InvalidInput(f"--output {output}: the directory does not exist")
    with reading() as session, _opened(output) as stream:
        rows = write(session, stream)
    if output != "-":
        say(f"exported {rows:,} {what} to {output}")


@export_app.command("accounts")
def accounts(
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    sort: SortOption = "name",
    output: OutputOption = "-",
) -> None:
    """Export the accounts `accounts list` would show (all of them), ready to re-import."""
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )

    def write(session: Session, stream: TextIO) -> int:
        conditions, _ = filters.conditions(session)
        return write_accounts_csv(session, stream, where=conditions, sort=sort)

    _export(output, "accounts", write)


@export_app.command("users")
def users(output: OutputOption = "-") -> None:
    """Export every user (active or not), ready to re-import."""
    _export(output, "users", lambda session, stream: write_users_csv(session, stream))


@export_app.command("history")
def history(
    ref: HistoryRefArgument = None,
    on: HistoryOnOption = None,
    csm: HistoryCsmOption = None,
    role: HistoryRoleOption = "csm",
    output: OutputOption = "-",
) -> None:
    """An account's ownership timeline (or owners on --on DATE), or a CSM's book on a date."""
    day = history_day(ref, csm, on)

    def write(session: Session, stream: TextIO) -> int:
        return write_history_csv(session, stream, account=ref, csm=csm, on=day, role=role)

    _export(output, "assignment rows", write)
