"""``bookwise users``: add, list, deactivate (with the book moved or kept), activate, seats,
passwords."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.overview import book_sizes
from bookwise.auth.service import set_password
from bookwise.cli.options import AsOption, DryRunOption, EmailArgument, FingerprintOption
from bookwise.cli.output import (
    Column,
    FormatOption,
    OutputFormat,
    ResultFormat,
    ResultFormatOption,
    echo_json,
    emit_listing,
    emit_result,
    say,
)
from bookwise.cli.runtime import reading, resolve_actor, writing
from bookwise.errors import InvalidInput
from bookwise.users.service import (
    build_user,
    create_user,
    get_user,
    list_users,
    set_active,
    set_csm_seat,
)

users_app = typer.Typer(
    help="Add, list, deactivate and activate users; set their passwords.", no_args_is_help=True
)

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (for scripts).",
    ),
]


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or asked twice without echo."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InvalidInput("--password-stdin read no password: send it as one line on stdin")
        return line
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


class UserRole(StrEnum):
    """What a user may do in bookwise."""

    admin = "admin"
    manager = "manager"
    viewer = "viewer"


@users_app.command("add")
def add(
    email: EmailArgument,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Full name.")] = "",
    role: Annotated[UserRole, typer.Option("--role", help="admin, manager or viewer.")] = (
        UserRole.viewer
    ),
    csm_seat: Annotated[
        bool,
        typer.Option("--csm-seat/--no-csm-seat", help="Whether the user can own accounts."),
    ] = False,
    external_id: Annotated[
        str | None,
        typer.Option("--external-id", metavar="ID", help="The user's id in the CRM (OwnerId)."),
    ] = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Add a user; give them --csm-seat so that they can own accounts.

    Without --password-stdin the user has no password yet: set one with `users set-password`.
    """
    data = build_user(
        email=email, name=name, role=role.value, csm_seat=csm_seat, external_id=external_id
    )
    password = read_password(True) if password_stdin else None

    def work(session: Session) -> str:
        actor = resolve_actor(session, admin=True)
        user = create_user(session, data=data, actor=actor)
        if password is not None:
            set_password(session, user=user, password=password, actor=actor)
        return user.email

    added = writing(work)
    seat = "with a CSM seat" if csm_seat else "without a CSM seat"
    with_password = ", with a password" if password is not None else ""
    say(f"added user {added} ({role.value}, {seat}{with_password})")


@users_app.command("list")
def list_(
    include_inactive: Annotated[
        bool, typer.Option("--all/--active", help="Include inactive users (default) or not.")
    ] = True,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List users with their role, seat, status and number of open csm accounts."""
    with reading() as session:
        users = list_users(session, include_inactive=include_inactive)
        sizes = book_sizes(session)
        items = [
            {
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "csm_seat": u.csm_seat,
                "active": u.active,
                "external_id": u.external_id,
                "accounts": sizes.get(u.id, 0),
            }
            for u in users
        ]
    emit_listing(
        fmt,
        items=items,
        total=len(items),
        columns=[
            Column("email", "email"),
            Column("name", "name"),
            Column("role", "role"),
            Column("csm_seat", "csm seat"),
            Column("active", "active"),
            Column("accounts", "accounts", numeric=True),
        ],
    )


@users_app.command("deactivate")
def deactivate(
    email: EmailArgument,
    transfer_to: Annotated[
        str | None,
        typer.Option("--transfer-to", metavar="EMAIL", help="Move their accounts to EMAIL."),
    ] = None,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Leave their accounts (listed under no-one, owner inactive)."),
    ] = False,
    dry_run: DryRunOption = False,
    fingerprint: FingerprintOption = None,
    actor: AsOption = None,
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Deactivate a user; one who owns accounts needs --transfer-to EMAIL or --keep."""
    if transfer_to and keep:
        raise InvalidInput("give either --transfer-to EMAIL or --keep, not both")

    def work(session: Session) -> dict[str, Any]:
        user = get_user(session, email)
        target = get_user(session, transfer_to) if transfer_to else None
        result = deactivate_user(
            session,
            user=user,
            actor=resolve_actor(session, actor, admin=True),
            transfer_to=target,
            keep=keep,
            dry_run=dry_run,
            expected_fingerprint=fingerprint,
        )
        return {"user": user.email, "active": user.active, "dry_run": dry_run, "result": result}

    outcome = writing(work)
    result = outcome["result"]
    if fmt is ResultFormat.json:
        echo_json({**outcome, "result": result.model_dump(mode="json") if result else None})
        return
    verb = "would deactivate" if dry_run else "deactivated"
    say(f"{verb} {outcome['user']}")
    if result is not None:
        emit_result(result, ResultFormat.table, fingerprint_hint=True)
    elif keep:
        say("their accounts stay with them, listed under no-one as owner inactive")
    if dry_run and result is None:
        say("dry run: nothing was written")


@users_app.command("activate")
def activate(email: EmailArgument) -> None:
    """Mark a deactivated user active again (their kept accounts count as theirs again)."""

    def work(session: Session) -> str:
        return set_active(
            session,
            user=get_user(session, email),
            active=True,
            actor=resolve_actor(session, admin=True),
        ).email

    say(f"activated {writing(work)}")


@users_app.command("set-seat")
def set_seat(
    email: EmailArgument,
    seat: Annotated[
        bool,
        typer.Option("--on/--off", help="Give (--on) or take (--off) the CSM seat."),
    ],
) -> None:
    """Give or take a user's CSM seat; without one they receive no new accounts."""

    def work(session: Session) -> str:
        return set_csm_seat(
            session,
            user=get_user(session, email),
            seat=seat,
            actor=resolve_actor(session, admin=True),
        ).email

    say(f"{writing(work)} {'now has' if seat else 'no longer has'} a CSM seat")


@users_app.command("set-password")
def set_password_(
    email: EmailArgument,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Set the password a user signs in to the web app with (asked twice, not echoed).

    Every browser session of the user ends; their API tokens keep working.
    """
    with reading() as session:  # an unknown user or a refused actor fails before the prompt
        get_user(session, email)
        resolve_actor(session, admin=True)
    password = read_password(password_stdin)

    def work(session: Session) -> str:
        user = get_user(session, email)
        set_password(
            session, user=user, password=password, actor=resolve_actor(session, admin=True)
        )
        return user.email

    say(f"password set for {writing(work)}")
