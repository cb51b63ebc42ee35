"""Reports: team performance per CSM in an explicit counting mode, now or as of a date."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from bookwise.cli.output import Column, FormatOption, OutputFormat, emit_listing
from bookwise.cli.runtime import reading
from bookwise.cli.selecting import SegmentOption, WhereOption
from bookwise.dates import DATE_FORMS, parse_date
from bookwise.reports.counting import COUNTING_MODES, DEFAULT_COUNTING
from bookwise.reports.team import TeamReport, team_report

reports_app = typer.Typer(
    help="Team performance per CSM, in an explicit counting mode.", no_args_is_help=True
)

Counting = StrEnum("Counting", {name: name for name in COUNTING_MODES})  # type: ignore[misc]

TEAM_COLUMNS = [
    Column("name", "CSM"),
    Column("accounts", "accounts", numeric=True),
    Column("mrr", "mrr", numeric=True),
    Column("avg_health", "health", numeric=True),
    Column("avg_csm_rating", "rating", numeric=True),
    Column("avg_nps", "nps", numeric=True),
    Column("healthy", "healthy", numeric=True),
    Column("neutral", "neutral", numeric=True),
    Column("unhealthy", "unhealthy", numeric=True),
    Column("unknown", "unknown", numeric=True),
    Column("renewals_90d", "renew ≤90d", numeric=True),
    Column("flag", "note"),
    Column("email", "email"),
]


def team(
    counting: Annotated[
        Counting,
        typer.Option(
            "--counting",
            help="How accounts are credited: all, top-level, rollup or split "
            "(docs/concepts.md, Counting modes).",
        ),
    ] = Counting(DEFAULT_COUNTING),  # noqa: B008
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATE", help=f"As at the end of DATE ({DATE_FORMS})."),
    ] = None,
    role: Annotated[
        str, typer.Option("--role", metavar="ROLE", help="The assignment role counted.")
    ] = "csm",
    where: WhereOption = None,
    segment: SegmentOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Per CSM: accounts, MRR, average health, CSM rating and NPS, health bands and renewals
    due, with team totals of distinct accounts; the counting mode is printed with them."""
    day = parse_date(as_of, field="--as-of") if as_of else None
    with reading() as session:
        report = team_report(
            session, counting=counting.value, day=day, role=role, where=where, segment=segment
        )
    if fmt is OutputFormat.json:
        from bookwise.cli.output import echo_json

        echo_json(report.model_dump(mode="json"))
        return
    data = report.model_dump(mode="json")
    emit_listing(
        fmt, items=data["items"], columns=TEAM_COLUMNS, total=report.total, footer=footer(report)
    )


def footer(report: TeamReport) -> str:
    """The team totals and the counting mode, printed under the table."""
    when = f"as of the end of {report.as_of}" if report.as_of else "now"
    narrowed = f" · {report.rule}" if report.rule else ""
    return (
        f"team: {report.team_accounts:,} distinct accounts, mrr {report.team_mrr} · "
        f"role {report.role} · {when}{narrowed}\n"
        f"counting: {report.counting} — {report.counting_english}\n"
        f"health bands: healthy ≥ {report.healthy_from}, unhealthy < {report.unhealthy_below}"
    )


reports_app.command("team")(team)
