"""Who owned what, when and why (``history``), and the operations log with undo."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bookwise.accounts.service import get_account
from bookwise.assignments.history import (
    TimelineRow,
    account_history,
    book_on,
    list_operations,
)
from bookwise.assignments.schemas import OperationResult
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
)
from bookwise.cli.runtime import reading, resolve_actor, writing
from bookwise.dates import today
from bookwise.users.service import get_user

operations_app = typer.Typer(help="List operations and undo them.", no_args_is_help=True)

TIMELINE_COLUMNS = [
    Column("external_id", "account"),
    Column("user", "owner"),
    Column("role", "role"),
    Column("started_at", "from", time=True),
    Column("ended_at", "to", time=True),
    Column("source", "source"),
    Column("reason", "reason"),
    Column("actor", "by"),
    Column("operation_id", "op", numeric=True),
]


def _page(rows: list[Any], *, limit: int, offset: int) -> tuple[list[Any], int | None, bool]:
    """Trim a ``limit + 1`` fetch: (rows, total when it is known, whether more exist)."""
    more = len(rows) > limit
    shown = rows[:limit]
    return shown, None if more else offset + len(shown), more


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
    more = False
    with reading() as session:
        if csm is not None:
            rows = book_on(
                session,
                user=get_user(session, csm),
                day=day or today(),
                role=role,
                limit=limit + 1,
                offset=offset,
            )
            rows, total, more = _page(rows, limit=limit, offset=offset)
        else:
            account = get_account(session, str(ref))
            page = account_history(session, account=account, on=day, limit=limit, offset=offset)
            rows, total = page.items, page.total
            more = total is not None and offset + len(rows) < total
    emit_timeline(rows, fmt, total=total, more=more, offset=offset)


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


@operations_app.command("list")
def operations_list(
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Recent operations, newest first."""
    with reading() as session:
        rows = list_operations(session, limit=limit + 1, offset=offset)
    shown, total, more = _page(rows, limit=limit, offset=offset)
    items = [op.model_dump(mode="json") for op in shown]
    emit_listing(
        fmt,
        items=items,
        columns=[
            Column("id", "id", numeric=True),
            Column("kind", "kind"),
            Column("actor", "by"),
            Column("created_at", "at", time=True),
            Column("accounts_changed", "accounts", numeric=True),
            Column("counts", "counts", pairs=True),
            Column("parameters", "parameters", pairs=True),
            Column("undoes", "undoes", numeric=True),
            Column("undone_by", "undone by", numeric=True),
        ],
        total=total,
        paging={"limit": limit, "offset": offset, "more": more},
        footer=paging_footer(len(items), total, offset),
    )


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
