"""``bookwise import accounts|users FILE``: streaming CSV import."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from bookwise.cli.options import AsOption, DryRunOption
from bookwise.cli.output import (
    ResultFormat,
    ResultFormatOption,
    console,
    echo_json,
    error_console,
    say,
)
from bookwise.cli.runtime import resolve_actor, writing
from bookwise.importing.accounts import BATCH_SIZE, ImportOptions, import_accounts
from bookwise.importing.mapping import parse_overrides
from bookwise.importing.report import NO_OWNER_COLUMN, ImportReport, default_error_path
from bookwise.importing.users import import_users

import_app = typer.Typer(help="Import accounts and users from CSV files.", no_args_is_help=True)

FileArgument = Annotated[
    Path,
    typer.Argument(
        metavar="FILE", exists=True, dir_okay=False, readable=True, help="The CSV file."
    ),
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        metavar="NAME",
        help="The file's encoding when it is neither UTF-8 nor UTF-16 with a BOM (e.g. cp1252).",
    ),
]
ErrorsOption = Annotated[
    Path | None,
    typer.Option(
        "--errors",
        metavar="FILE",
        help="Write every bad row here (default: FILE.errors.csv next to the input).",
    ),
]
AllOrNothingOption = Annotated[
    bool,
    typer.Option("--all-or-nothing", help="Write nothing at all if any row is bad."),
]


@import_app.command("accounts")
def accounts(
    file: FileArgument,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="SOURCE=FIELD",
            help="Feed column SOURCE into FIELD (a field, custom.NAME, owner_ids or ignore). "
            "Repeatable.",
        ),
    ] = None,
    encoding: EncodingOption = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format", metavar="FORMAT", help="Dates such as '%d/%m/%Y' (default: ISO)."
        ),
    ] = None,
    errors: ErrorsOption = None,
    all_or_nothing: AllOrNothingOption = False,
    dry_run: DryRunOption = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows staged per write.")
    ] = BATCH_SIZE,
    as_: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Create or update accounts by external id from a CSV file (Salesforce, HubSpot, ours)."""
    options = ImportOptions(
        encoding=encoding,
        date_format=date_format,
        overrides=parse_overrides(mapping or []),
        all_or_nothing=all_or_nothing,
        dry_run=dry_run,
        batch_size=batch_size,
    )

    def work(session: Session) -> ImportReport:
        actor = resolve_actor(session, as_)
        with _error_file(file, errors, dry_run) as stream, _progress() as progress:
            return import_accounts(
                session, path=file, actor=actor, options=options, errors=stream, progress=progress
            )

    _finish(writing(work), file, errors, fmt)


@import_app.command("users")
def users(
    file: FileArgument,
    encoding: EncodingOption = None,
    errors: ErrorsOption = None,
    all_or_nothing: AllOrNothingOption = False,
    dry_run: DryRunOption = False,
    as_: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Create or update users by email (email, name, role, csm_seat, active, external_id)."""

    def work(session: Session) -> ImportReport:
        actor = resolve_actor(session, as_, admin=True)
        with _error_file(file, errors, dry_run) as stream:
            return import_users(
                session,
                path=file,
                actor=actor,
                encoding=encoding,
                all_or_nothing=all_or_nothing,
                dry_run=dry_run,
                errors=stream,
            )

    _finish(writing(work), file, errors, fmt)


@contextlib.contextmanager
def _error_file(file: Path, explicit: Path | None, dry_run: bool) -> Iterator[TextIO | None]:
    """The error CSV; a dry run writes one only when --errors names it."""
    if dry_run and explicit is None:
        yield None
        return
    target = explicit or default_error_path(file)
    with target.open("w", encoding="utf-8", newline="") as stream:
        yield stream


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int], None]]:
    """A spinner on stderr counting the rows read."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("importing: {task.completed:,} rows read"),
        TimeElapsedColumn(),
        console=error_console(),
        transient=True,
    )
    task = progress.add_task("import", total=None)
    with progress:
        yield lambda done: progress.update(task, completed=done)


def _finish(report: ImportReport, file: Path, explicit: Path | None, fmt: ResultFormat) -> None:
    """Keep the error file only when there were errors; print; exit 1 if nothing was written."""
    target = explicit or default_error_path(file)
    if not report.dry_run or explicit is not None:
        if report.failed:
            report.error_file = str(target)
        elif explicit is None:
            target.unlink(missing_ok=True)
    if fmt is ResultFormat.json:
        echo_json(report.as_dict())
    else:
        _print(report)
    if not report.written and not report.dry_run:
        raise typer.Exit(1)


def _print(report: ImportReport) -> None:
    """The mapping, the counts, and the first errors, for people."""
    out = console()
    mapping = Table(
        "column",
        "field",
        title=f"{Path(report.path).name} ({report.encoding}, delimiter {report.delimiter!r})",
    )
    for column, target in report.mapping:
        mapping.add_row(column, target)
    out.print(mapping)
    if report.ignored:
        say(f"ignored columns: {', '.join(report.ignored)}")
    if report.errors:
        errors = Table("line", "column", "value", "reason", title="first errors")
        for problem in report.errors:
            errors.add_row(str(problem.line), problem.column, problem.value, problem.reason)
        out.print(errors)
    if report.ignored_owner_columns:
        # Owners silently left as they were is the costly mistake: a box, not one more line.
        text = Text("\n".join(report.owner_warnings), style="bold")
        out.print(Panel(text, title="owners", border_style="yellow", expand=False))
    say(_summary(report))


def _summary(report: ImportReport) -> str:
    figures = (
        f"{report.rows_read:,} rows read: {report.created:,} created, {report.updated:,} "
        f"updated, {report.unchanged:,} unchanged, {report.failed:,} failed"
    )
    if report.owner_counts:
        figures += "; owners " + ", ".join(f"{k} {v:,}" for k, v in report.owner_counts.items())
    if report.has_owner_column is False:
        figures += f"; {NO_OWNER_COLUMN}"
    if report.operation_id is not None:
        figures += f" (operation {report.operation_id}, undo with `bookwise operations undo`)"
    if report.error_file:
        figures += f"\nevery bad row is in {report.error_file}"
    if report.dry_run:
        return "dry run, nothing written. " + figures
    if not report.written:
        return "nothing written (--all-or-nothing and some rows failed). " + figures
    return figures
