"""Who owned what, when and why (``history``), and the operations log with undo."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bookwise.accounts.service import get_account
from bookwise.assignments.history import (
    ChangeFilter,
    OperationFilter,
    ParameterNames,
    TimelineRow,
    account_history,
    book_page,
    get_operation,
    operation_changes,
    operations_page,
    parameter_names,
    parameter_words,
)
from bookwise.assignments.schemas import OperationOut, OperationResult
from bookwise.assignments.undo import undo_operation
from bookwise.cli.options import (
    AsOption,
    DryRunOption,
    FingerprintOption,
    HistoryCsmOption,
    HistoryOnOption,
    HistoryRefArgument,
    HistoryRoleOption,
    LimitOption,
    OffsetOption,
    history_day,
)
from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    ResultFormat,
    ResultFormatOption,
    emit_listing,
    emit_result,
    paging_footer,
    say,
)
from bookwise.cli.runtime import reading, resolve_actor, writing
from bookwise.dates import DATE_FORMS, parse_date, today
from bookwise.errors import InvalidInput
from bookwise.models import OPERATION_KINDS
from bookwise.users.service import get_user

operations_app = typer.Typer(
    help="List operations, show what one changed, and undo them.", no_args_is_help=True
)

TIMELINE_COLUMNS = [
    Column("external_id", "account"),
    Column("account", "name"),
    Column("user_name", "owner"),
    Column("user", "email"),
    Column("role", "role"),
    Column("started_at", "from", time=True),
    Column("ended_at", "to", time=True),
    Column("source", "source"),
    Column("reason", "reason"),
    Column("actor_name", "by"),
    Column("operation_id", "op", numeric=True),
]
CHANGE_COLUMNS = [
    Column("action", "change"),
    Column("external_id", "account"),
    Column("account", "name"),
    Column("user_name", "owner"),
    Column("user", "email"),
    Column("role", "role"),
    Column("at", "at", time=True),
    Column("source", "source"),
    Column("reason", "reason"),
]
OPERATION_COLUMNS = [
    Column("id", "id", numeric=True),
    Column("kind", "kind"),
    Column("actor_name", "by"),
    Column("actor", "email"),
    Column("created_at", "at", time=True),
    Column("accounts_changed", "accounts", numeric=True),
    Column("counts", "counts", pairs=True),
    Column("details", "details"),
    Column("undoes", "undoes", numeric=True),
    Column("undone_by", "undone by", numeric=True),
]


class ChangeChoice(StrEnum):
    """Which changes ``operations show`` lists."""

    open = "open"
    close = "close"


def history(
    ref: HistoryRefArgument = None,
    on: HistoryOnOption = None,
    csm: HistoryCsmOption = None,
    role: HistoryRoleOption = "csm",
    limit: LimitOption = 1000,
    offset: OffsetOption = 0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """An account's ownership timeline, its owners on a date, or a CSM's book on a date."""
    day = history_day(ref, csm, on)
    with reading() as session:
        if csm is not None:
            user = get_user(session, csm)
            page = book_page(
                session, user=user, day=day or today(), role=role, limit=limit, offset=offset
            )
        else:
            account = get_account(session, str(ref))
            page = account_history(session, account=account, on=day, limit=limit, offset=offset)
    total = page.total
    more = total is not None and offset + len(page.items) < total
    emit_timeline(page.items, fmt, total=total, more=more, offset=offset)


def emit_timeline(
    rows: list[TimelineRow], fmt: OutputFormat, *, total: int | None, more: bool, offset: int
) -> None:
    """Print timeline rows as a listing."""
    items = [row.model_dump(mode="json") for row in rows]
    for item in items:
        item["external_id"] = item["external_id"] or f"#{item['account_id']}"
    emit_listing(
        fmt,
        items=items,
        columns=TIMELINE_COLUMNS,
        total=total,
        paging={"offset": offset, "more": more},
        footer=paging_footer(len(items), total, offset),
    )


def _day(text: str | None, option: str) -> date | None:
    return parse_date(text, field=option) if text else None


@operations_app.command("list")
def operations_list(
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", metavar="KIND", help=f"Only this kind: {', '.join(OPERATION_KINDS)}."
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", metavar="USER", help="Only operations this user ran (email or name)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help=f"Only on or after DATE ({DATE_FORMS})."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help=f"Only on or before DATE ({DATE_FORMS})."),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", metavar="REF", help="Only operations that changed this account."),
    ] = None,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Recent operations, newest first; every filter given narrows the list."""
    if kind is not None and kind not in OPERATION_KINDS:
        raise InvalidInput(f"--kind {kind!r} is not a kind; kinds: {', '.join(OPERATION_KINDS)}")
    with reading() as session:
        filters = OperationFilter(
            kind=kind,
            actor_id=get_user(session, by).id if by else None,
            since=_day(since, "--since"),
            until=_day(until, "--until"),
            account_id=get_account(session, account).id if account else None,
        )
        page = operations_page(session, limit=limit, offset=offset, filters=filters)
        names = parameter_names(session, page.items)
    items = [_operation_item(op, names) for op in page.items]
    more = page.total is not None and offset + len(items) < page.total
    emit_listing(
        fmt,
        items=items,
        columns=OPERATION_COLUMNS,
        total=page.total,
        paging={"limit": limit, "offset": offset, "more": more},
        footer=paging_footer(len(items), page.total, offset),
    )


def _operation_item(operation: OperationOut, names: ParameterNames) -> dict[str, Any]:
    item = operation.model_dump(mode="json")
    item["details"] = "; ".join(parameter_words(operation, names))
    return item


@operations_app.command("show")
def operations_show(
    operation_id: Annotated[int, typer.Argument(metavar="ID", help="The operation to show.")],
    owner: Annotated[
        str | None,
        typer.Option("--owner", metavar="USER", help="Only this owner's rows (email or name)."),
    ] = None,
    action: Annotated[
        ChangeChoice | None,
        typer.Option("--action", help="Only the owners it opened, or only those it closed."),
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", metavar="ROLE", help="Only this role's rows.")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            metavar="TEXT",
            help="Only accounts whose name contains TEXT (any case) or whose external id is TEXT.",
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort", metavar="FIELD", help="account, external_id, owner or role; - descending."
        ),
    ] = "account",
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """One operation and every owner it opened or closed, by account name."""
    with reading() as session:
        operation = get_operation(session, operation_id=operation_id)
        filters = ChangeFilter(
            owner_id=get_user(session, owner).id if owner else None,
            action=action.value if action else None,
            role=role,
            account=account,
        )
        page = operation_changes(
            session,
            operation_id=operation_id,
            filters=filters,
            sort=sort,
            limit=limit,
            offset=offset,
        )
        names = parameter_names(session, [operation])
    items = [change.model_dump(mode="json") for change in page.items]
    for item in items:
        item["external_id"] = item["external_id"] or f"#{item['account_id']}"
    if fmt is OutputFormat.table:
        for line in _operation_summary(operation, names):
            say(line)
    more = page.total is not None and offset + len(items) < page.total
    emit_listing(
        fmt,
        items=items,
        columns=CHANGE_COLUMNS,
        total=page.total,
        paging={
            "limit": limit,
            "offset": offset,
            "more": more,
            "operation": _operation_item(operation, names),
        },
        footer=paging_footer(len(items), page.total, offset),
    )


def _operation_summary(operation: OperationOut, names: ParameterNames) -> list[str]:
    who = operation.actor_name or operation.actor
    at = operation.created_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"#{operation.id} {operation.kind.replace('_', ' ')} by {who} ({operation.actor}), {at}",
        f"{operation.accounts_changed:,} accounts changed"
        + "".join(f", {k.replace('_', ' ')} {v:,}" for k, v in operation.counts.items() if v),
    ]
    words = parameter_words(operation, names)
    if words:
        lines.append("; ".join(words))
    if operation.undone_by:
        lines.append(f"undone by #{operation.undone_by}")
    return lines


@operations_app.command("undo")
def operations_undo(
    operation_id: Annotated[int, typer.Argument(metavar="ID", help="The operation to undo.")],
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Restore exactly the ownership an operation replaced (refused if later ones conflict)."""

    def work(session: Session) -> OperationResult:
        return undo_operation(
            session,
            operation_id=operation_id,
            actor=resolve_actor(session, actor),
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)
