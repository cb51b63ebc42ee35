"""``bookwise segments``: saved rules with live members and a materialised membership."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bookwise.assignments.listing import count_accounts
from bookwise.cli.accounts import emit_account_page
from bookwise.cli.options import AsOption, CountOption, LimitOption, OffsetOption, SortOption
from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    ResultFormat,
    ResultFormatOption,
    echo_json,
    emit_listing,
    say,
)
from bookwise.cli.runtime import reading, resolve_actor, writing
from bookwise.errors import InvalidInput
from bookwise.models import Segment
from bookwise.segments import service
from bookwise.segments.rules import compile_where, segment_rule

segments_app = typer.Typer(
    help="Saved segments: named rules whose members are always current.", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The segment's name.")]
RuleOption = Annotated[
    str,
    typer.Option(
        "--rule", metavar="RULE", help='The rule, e.g. "csm is X and company level is 1".'
    ),
]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", metavar="TEXT", help="What the segment is for.")
]


def _summary(segment: Segment, members: int | None = None) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "rule": segment.rule_text,
        "description": segment.description,
        "members": members,
        "refreshed_at": segment.refreshed_at.isoformat() if segment.refreshed_at else None,
    }


@segments_app.command("create")
def create(
    name: NameArgument,
    rule: RuleOption,
    description: DescriptionOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Save a named rule; it is checked now (fields, users, segments, no cycles)."""

    def work(session: Session) -> dict[str, Any]:
        segment = service.create_segment(
            session,
            name=name,
            rule=rule,
            description=description or "",
            actor=resolve_actor(session, actor),
        )
        return _summary(segment)

    created = writing(work)
    if fmt is ResultFormat.json:
        echo_json(created)
        return
    say(f"created segment {created['name']!r}: {created['rule']}")


@segments_app.command("edit")
def edit(
    name: NameArgument,
    rule: Annotated[str | None, typer.Option("--rule", metavar="RULE", help="A new rule.")] = None,
    new_name: Annotated[
        str | None,
        typer.Option("--name", metavar="NEW", help="A new name (rules that use it follow)."),
    ] = None,
    description: DescriptionOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Change a segment's rule, name or description."""
    if rule is None and new_name is None and description is None:
        raise InvalidInput("give --rule, --name or --description")

    def work(session: Session) -> dict[str, Any]:
        segment = service.update_segment(
            session,
            name=name,
            new_name=new_name,
            rule=rule,
            description=description,
            actor=resolve_actor(session, actor),
        )
        return _summary(segment)

    changed = writing(work)
    if fmt is ResultFormat.json:
        echo_json(changed)
        return
    say(f"segment {changed['name']!r}: {changed['rule']}")


@segments_app.command("list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """Every segment with its rule and its members as of its last refresh."""
    with reading() as session:
        counts = service.materialised_counts(session)
        items = [_summary(s, counts.get(s.id, 0)) for s in service.list_segments(session)]
    emit_listing(
        fmt,
        items=items,
        columns=[
            Column("name", "name"),
            Column("rule", "rule"),
            Column("members", "members (last refresh)", numeric=True),
            Column("refreshed_at", "refreshed", time=True),
        ],
        total=len(items),
        title="segments",
    )


@segments_app.command("show")
def show(name: NameArgument, fmt: ResultFormatOption = ResultFormat.table) -> None:
    """A segment: its rule in text and English, live member count, and who uses it."""
    with reading() as session:
        segment = service.get_segment(session, name)
        compiled = compile_where(session, segment.rule)  # the rule, its English, its SQL
        live = count_accounts(session, where=[compiled.where])
        stored = service.materialised_counts(session, segment_ids=[segment.id])
        details = _summary(segment, stored.get(segment.id, 0))
        details.update(
            english=compiled.english,
            live_members=live,
            used_by=service.users_of(session, segment),
        )
    if fmt is ResultFormat.json:
        echo_json(details)
        return
    say(f"segment:     {details['name']}")
    say(f"rule:        {details['rule']}")
    say(f"means:       {details['english']}")
    if details["description"]:
        say(f"description: {details['description']}")
    say(f"members:     {live:,} now · {details['members']:,} at the last refresh")
    if details["used_by"]:
        say(f"used by:     {', '.join(details['used_by'])}")


@segments_app.command("members")
def members(
    name: NameArgument,
    sort: SortOption = "name",
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    count: CountOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The segment's members right now (the rule evaluated live), paginated and sortable."""
    with reading() as session:
        # Looked up first: an unknown name is NotFound, and the output uses the segment's name.
        name = service.get_segment(session, name).name
        if count:
            compiled = segment_rule(session, name)
            typer.echo(str(count_accounts(session, where=[compiled.where])))
            return
        page = service.segment_members(session, name=name, sort=sort, limit=limit, offset=offset)
    emit_account_page(fmt, page, segment=name)


@segments_app.command("refresh")
def refresh(
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="[NAME]...", help="Segments to refresh (default: all)."),
    ] = None,
    actor: AsOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record who entered and who left each segment since its last refresh (set-based).

    A segment that cannot be refreshed (its rule is over the rule budget) is reported on
    stderr and left as it was; the others are refreshed, and the exit code is 1.
    """

    def work(session: Session) -> list[dict[str, Any]]:
        acting = resolve_actor(session, actor)
        results = service.refresh_segments(session, names=names or None, actor=acting)
        return [r.model_dump(mode="json") for r in results]

    items = writing(work)
    emit_listing(
        fmt,
        items=items,
        columns=[
            Column("segment", "segment"),
            Column("entered", "entered", numeric=True),
            Column("left", "left", numeric=True),
            Column("members", "members", numeric=True),
        ],
        total=len(items),
        title="segments refreshed",
    )
    failed = [item["error"] for item in items if item.get("error")]
    for message in failed:
        typer.echo(f"error: {message}", err=True)
    if failed:
        raise typer.Exit(1)


@segments_app.command("delete")
def delete(name: NameArgument, actor: AsOption = None) -> None:
    """Delete a segment (refused while another segment's rule refers to it)."""

    def work(session: Session) -> str:
        segment = service.get_segment(session, name)
        label = segment.name
        service.delete_segment(session, name=name, actor=resolve_actor(session, actor))
        return label

    say(f"deleted segment {writing(work)!r}")
