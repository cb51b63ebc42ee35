"""``bookwise tokens``: API tokens for scripts: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bookwise.auth.service import (
    create_token,
    get_token,
    list_tokens_with_owners,
    revoke_token,
)
from bookwise.cli.options import EmailArgument
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
from bookwise.models import ApiToken
from bookwise.users.service import get_user

tokens_app = typer.Typer(
    help="Create, list and revoke API tokens (send one as Authorization: Bearer TOKEN).",
    no_args_is_help=True,
)


def _item(row: ApiToken, email: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": email,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "status": "revoked" if row.revoked_at else "active",
    }


@tokens_app.command("create")
def create(
    email: EmailArgument,
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="What the token is for (1-100 chars).")
    ],
    fmt: ResultFormatOption = ResultFormat.table,
) -> None:
    """Create an API token for a user; its secret is printed this once and never stored."""

    def work(session: Session) -> dict[str, Any]:
        user = get_user(session, email)
        created = create_token(
            session, user=user, name=name, actor=resolve_actor(session, admin=True)
        )
        return {**_item(created.token, user.email), "token": created.secret}

    item = writing(work)
    if fmt is ResultFormat.json:
        echo_json(item)
        return
    say(f"created API token {item['id']} ({item['name']}) for {item['user']}")
    say("its secret, shown this once (bookwise keeps only a hash of it):")
    say(item["token"])
    say("send it as the header  Authorization: Bearer TOKEN")


@tokens_app.command("list")
def list_(
    email: Annotated[
        str | None, typer.Argument(metavar="[EMAIL]", help="Only this user's tokens.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List API tokens (never their secrets), newest first: all, or one user's."""
    with reading() as session:
        user = get_user(session, email) if email else None
        items = [_item(row, owner) for row, owner in list_tokens_with_owners(session, user=user)]
    emit_listing(
        fmt,
        items=items,
        total=len(items),
        columns=[
            Column("id", "id", numeric=True),
            Column("user", "user"),
            Column("name", "name"),
            Column("prefix", "starts with"),
            Column("created_at", "created", time=True),
            Column("status", "status"),
            Column("revoked_at", "revoked", time=True),
        ],
    )


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id (tokens list).")],
) -> None:
    """Revoke an API token: every request with it fails from now on."""

    def work(session: Session) -> tuple[bool, dict[str, Any]]:
        actor = resolve_actor(session, admin=True)
        row, owner = get_token(session, token_id)
        already = row.revoked_at is not None
        return already, _item(revoke_token(session, token_id=token_id, actor=actor), owner.email)

    already, item = writing(work)
    if already:
        say(f"API token {item['id']} ({item['name']}, of {item['user']}) was already revoked")
    else:
        say(f"revoked API token {item['id']} ({item['name']}, of {item['user']})")
