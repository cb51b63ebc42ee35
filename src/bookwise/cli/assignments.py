"""Ownership commands: csms (the overview), assign, unassign, transfer, take-over, inherit."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from bookwise.assignments.overview import csm_overview
from bookwise.cli.options import AsOption, DryRunOption, FingerprintOption
from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    ResultFormat,
    ResultFormatOption,
    emit_listing,
    emit_result,
)
from bookwise.cli.runtime import reading_rows, resolve_actor, writing
from bookwise.cli.selecting import (
    AssignedToOption,
    FilterArgs,
    IdsFromOption,
    NotAssignedToOption,
    RefsArgument,
    RoleOption,
    SegmentOption,
    UnassignedOption,
    WhereOption,
    WhoOption,
    build_selection,
    read_refs,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bookwise.assignments.schemas import OperationResult

# The write path (assignments.service, .inheritance) and users.service are imported inside the
# commands that write, and csms reads through a bare connection: `bookwise csms` starts
# without the ORM and the models (bench/cli_startup.py, docs/performance.md).

ReasonOption = Annotated[
    str, typer.Option("--reason", metavar="TEXT", help="Why (stored on every assignment row).")
]


def csms(fmt: FormatOption = OutputFormat.table) -> None:
    """Every active CSM-seat user with the number of accounts they own and their MRR."""
    with reading_rows() as connection:
        overview = csm_overview(connection)
    data = overview.model_dump(mode="json")
    items = data.pop("items")
    data.pop("total")
    footer = (
        f"team: {overview.team_accounts:,} accounts, mrr {overview.team_mrr} · "
        f"unassigned: {overview.unassigned_accounts:,}\ncounting: {overview.counting}"
    )
    emit_listing(
        fmt,
        items=items,
        columns=[
            Column("email", "csm"),
            Column("name", "name"),
            Column("accounts", "accounts", numeric=True),
            Column("mrr", "mrr", numeric=True),
        ],
        total=overview.total,
        paging=data,
        title="CSM overview",
        footer=footer,
    )


def assign(
    to: Annotated[
        list[str],
        typer.Option(
            "--to",
            metavar="EMAIL",
            help="CSM to add, by email or unique full name (repeat for several).",
        ),
    ],
    refs: RefsArgument = None,
    ids_from: IdsFromOption = None,
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    reason: ReasonOption = "",
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Add one or several CSMs to the named accounts, or to every account a filter matches.

    Existing owners stay. Inactive users and users without a CSM seat are refused, and so is
    a direct change on an account that inherits its parent's CSMs.
    """
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )
    chosen = read_refs(refs, ids_from)

    def work(session: Session) -> OperationResult:
        from bookwise.assignments.service import assign_accounts
        from bookwise.users.service import get_users

        selection = build_selection(session, chosen, filters, required=True)
        return assign_accounts(
            session,
            selection=selection,
            csms=get_users(session, to),
            actor=resolve_actor(session, actor),
            role=role,
            reason=reason,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)


def unassign(
    from_: Annotated[
        str, typer.Option("--from", metavar="EMAIL", help="The CSM to remove (email or full name).")
    ],
    refs: RefsArgument = None,
    ids_from: IdsFromOption = None,
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    reason: ReasonOption = "",
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Remove one CSM from the named (or filtered) accounts; other owners stay."""
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )
    chosen = read_refs(refs, ids_from)

    def work(session: Session) -> OperationResult:
        from bookwise.assignments.service import unassign_accounts
        from bookwise.users.service import get_user

        selection = build_selection(session, chosen, filters, required=True)
        return unassign_accounts(
            session,
            selection=selection,
            csm=get_user(session, from_),
            actor=resolve_actor(session, actor),
            role=role,
            reason=reason,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)


def transfer(
    from_: Annotated[
        str,
        typer.Option(
            "--from", metavar="EMAIL", help="The CSM whose accounts move (email or full name)."
        ),
    ],
    to: Annotated[
        str,
        typer.Option("--to", metavar="EMAIL", help="The CSM who takes them (email or full name)."),
    ],
    refs: RefsArgument = None,
    ids_from: IdsFromOption = None,
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    reason: ReasonOption = "",
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Shift accounts from one CSM to another: the whole book, or the named/filtered part.

    Where the new CSM already owns an account, the old CSM's row simply ends.
    """
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )
    chosen = read_refs(refs, ids_from)

    def work(session: Session) -> OperationResult:
        from bookwise.assignments.service import transfer_accounts
        from bookwise.users.service import get_users

        selection = build_selection(session, chosen, filters, required=False)
        old, new = get_users(session, [from_, to])
        return transfer_accounts(
            session,
            from_csm=old,
            to_csm=new,
            actor=resolve_actor(session, actor),
            selection=selection,
            role=role,
            reason=reason,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)


def take_over(
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="EMAIL", help="The CSM who takes the accounts (email or full name)."
        ),
    ],
    refs: RefsArgument = None,
    ids_from: IdsFromOption = None,
    assigned_to: AssignedToOption = None,
    not_assigned_to: NotAssignedToOption = None,
    who: WhoOption = None,
    unassigned: UnassignedOption = False,
    where: WhereOption = None,
    segment: SegmentOption = None,
    role: RoleOption = "csm",
    reason: ReasonOption = "",
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Make one CSM the only owner of the named or filtered accounts, in one operation.

    Every other current owner loses them; the CSM gets each one they lack. For example
    `bookwise take-over --not-assigned-to ana@example.com --who others --to ana@example.com`.
    """
    filters = FilterArgs(
        assigned_to, not_assigned_to, who, unassigned, role, where=where, segment=segment
    )
    chosen = read_refs(refs, ids_from)

    def work(session: Session) -> OperationResult:
        from bookwise.assignments.service import take_over_accounts
        from bookwise.users.service import get_user

        return take_over_accounts(
            session,
            selection=build_selection(session, chosen, filters, required=True),
            to_csm=get_user(session, to),
            actor=resolve_actor(session, actor),
            role=role,
            reason=reason,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)


class DefaultPolicy(StrEnum):
    """The installation default for accounts without their own policy."""

    inherit = "inherit"
    own = "own"


def inherit(
    default: Annotated[
        DefaultPolicy | None,
        typer.Option(
            "--default",
            help="Set the installation default policy (an operation: previewable, undoable).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Make every inheriting child own exactly its parent's CSMs, or change the default policy.

    Without --default, reconciles the whole database (e.g. after an import).
    """

    def work(session: Session) -> OperationResult:
        from bookwise.assignments.inheritance import reconcile_inheritance, set_default_policy

        acting = resolve_actor(session, actor)
        if default is None:
            return reconcile_inheritance(
                session, actor=acting, dry_run=dry_run, expected_fingerprint=fingerprint
            )
        return set_default_policy(
            session,
            policy=default.value,
            actor=acting,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )

    emit_result(writing(work), fmt, fingerprint_hint=True)
