"""Setting up an installation: init, demo data, recount, custom attributes, assignment roles."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Protocol

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from bookwise.accounts.hierarchy import ChildCountReport, recount_children
from bookwise.accounts.service import count_accounts, declare_attribute, list_attributes
from bookwise.assignments.counters import RecountReport, recount_book_totals
from bookwise.assignments.roles import add_role, list_roles
from bookwise.cli.options import AsOption
from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    emit_listing,
    error_console,
    say,
)
from bookwise.cli.runtime import database_label, engine, reading, resolve_actor, writing
from bookwise.segments.service import rename_attribute

attributes_app = typer.Typer(
    help="Declare, rename and list custom account attributes.", no_args_is_help=True
)
roles_app = typer.Typer(
    help="Add and list assignment roles (csm is built in).", no_args_is_help=True
)


def init() -> None:
    """Create the database, or upgrade it to the newest schema; prints where it is."""
    from bookwise.migrate import upgrade_database  # Alembic is slow to import; only init needs it

    upgrade_database(engine())
    say(f"database ready: {database_label()}")


def demo(
    accounts: Annotated[
        int, typer.Option("--accounts", metavar="N", min=1, help="How many accounts.")
    ] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Random seed (same seed, same data).")
    ] = 42,
    benchmark_shape: Annotated[
        bool,
        typer.Option("--benchmark-shape", help="About 200 CSMs and 5% of accounts with two CSMs."),
    ] = False,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Do nothing (successfully) when accounts already exist."),
    ] = False,
) -> None:
    """Load a realistic, seeded demo book: hierarchy, CSMs, owners, MRR, health."""
    if if_empty:
        with reading() as session:
            existing = count_accounts(session)
        if existing:
            say(f"demo data not loaded: the database already has {existing:,} accounts")
            return
    from bookwise.demo.generator import generate_demo

    with _progress_bar() as report:
        summary = generate_demo(
            engine(), accounts=accounts, seed=seed, benchmark=benchmark_shape, progress=report
        )
    say(_demo_line(summary))


class _progress_bar:
    """A Rich progress bar on stderr whose callback fits ``generate_demo(progress=…)``."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=error_console(),
            transient=True,
        )
        self.task = self.progress.add_task("demo", total=None)

    def __enter__(self) -> Callable[[int, int], None]:
        self.progress.start()
        return self.update

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, done: int, total: int) -> None:
        """Move the bar to ``done`` of ``total``."""
        self.progress.update(self.task, completed=done, total=total)


class DemoFigures(Protocol):
    """What the demo generator reports (``bookwise.demo.generator.DemoSummary``)."""

    accounts: int
    users: int
    assignments: int
    seconds: float


def _demo_line(summary: DemoFigures) -> str:
    return (
        f"demo data loaded: {summary.accounts:,} accounts, {summary.users:,} users, "
        f"{summary.assignments:,} assignments in {summary.seconds:.1f} s"
    )


# --- the overview's counters ----------------------------------------------------------------


def recount(
    check: Annotated[
        bool,
        typer.Option("--check", help="Only compare; write nothing, exit 1 if a counter is off."),
    ] = False,
    actor: AsOption = None,
) -> None:
    """Recount the CSM overview's counters and every account's child count from scratch,
    and repair any that are off."""

    def work(session: Session) -> tuple[RecountReport, ChildCountReport]:
        acting = resolve_actor(session, actor, admin=True)
        return (
            recount_book_totals(session, actor=acting, dry_run=check),
            recount_children(session, actor=acting, dry_run=check),
        )

    report, children = writing(work)
    counted = report.counted
    figures = (
        f"{counted.accounts:,} accounts, {len(counted.books):,} books, "
        f"{sum(n for n, _ in counted.coverage.values()):,} covered"
    )
    if not report.differed and not children.differing:
        say(f"counters exact: {figures}; child counts exact")
        return
    for line in [*report.differences(), *children.differences()]:
        say(line)
    off = f"{len(report.differences())} counters and {children.differing:,} child counts"
    if check:
        say(f"counters off: {off} differ (run `bookwise recount` to fix)")
        raise typer.Exit(1)
    say(f"counters repaired: {off} differed; now {figures}")


# --- custom attributes -----------------------------------------------------------------------


class AttributeType(StrEnum):
    """The types a custom attribute may have."""

    text = "text"
    number = "number"
    money = "money"
    date = "date"
    boolean = "boolean"
    choice = "choice"


@attributes_app.command("add")
def attributes_add(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Attribute name (letters, digits, _).")
    ],
    type_: Annotated[AttributeType, typer.Option("--type", help="The value type.")],
    choices: Annotated[
        str | None, typer.Option("--choices", metavar="A,B,C", help="For --type choice: a,b,c.")
    ] = None,
    description: Annotated[
        str, typer.Option("--description", metavar="TEXT", help="What it means.")
    ] = "",
) -> None:
    """Declare a custom account attribute with its type (values are checked against it)."""
    options = [c.strip() for c in choices.split(",") if c.strip()] if choices else None

    def work(session: Session) -> str:
        definition = declare_attribute(
            session,
            name=name,
            type=type_.value,
            choices=options,
            description=description,
            actor=resolve_actor(session, admin=True),
        )
        return definition.name

    say(f"declared custom attribute {writing(work)} ({type_.value})")


@attributes_app.command("rename")
def attributes_rename(
    old: Annotated[str, typer.Argument(metavar="OLD", help="The attribute's current name.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its new name.")],
) -> None:
    """Rename a custom attribute in every account, and migrate the segment rules that use it."""

    def work(session: Session) -> list[str]:
        return rename_attribute(session, old=old, new=new, actor=resolve_actor(session, admin=True))

    migrated = writing(work)
    say(f"renamed custom attribute {old} to {new}")
    if migrated:
        say(f"segment rules rewritten: {', '.join(migrated)}")


@attributes_app.command("list")
def attributes_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the declared custom attributes."""
    with reading() as session:
        items = [
            {
                "name": d.name,
                "type": d.type,
                "choices": d.choices or [],
                "description": d.description,
            }
            for d in list_attributes(session)
        ]
    emit_listing(
        fmt,
        items=items,
        total=len(items),
        columns=[
            Column("name", "name"),
            Column("type", "type"),
            Column("choices", "choices"),
            Column("description", "description"),
        ],
    )


# --- roles -----------------------------------------------------------------------------------


@roles_app.command("add")
def roles_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Role name, e.g. account_manager.")],
    inheritable: Annotated[
        bool, typer.Option("--inheritable", help="Children that inherit follow this role too.")
    ] = False,
    description: Annotated[
        str, typer.Option("--description", metavar="TEXT", help="What it means.")
    ] = "",
) -> None:
    """Add an assignment role beside csm."""

    def work(session: Session) -> dict[str, Any]:
        role = add_role(
            session,
            name=name,
            inheritable=inheritable,
            description=description,
            actor=resolve_actor(session, admin=True),
        )
        return {"name": role.name, "inheritable": role.inheritable}

    role = writing(work)
    say(f"added role {role['name']}" + (" (inheritable)" if role["inheritable"] else ""))
    if role["inheritable"]:
        say("run `bookwise inherit` after assigning it to apply it to inheriting children")


@roles_app.command("list")
def roles_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the assignment roles."""
    with reading() as session:
        items = [
            {"name": r.name, "inheritable": r.inheritable, "description": r.description}
            for r in list_roles(session)
        ]
    emit_listing(
        fmt,
        items=items,
        total=len(items),
        columns=[
            Column("name", "name"),
            Column("inheritable", "inheritable"),
            Column("description", "description"),
        ],
    )
