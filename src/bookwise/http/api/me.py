"""/api/v1/me and API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.auth.service import create_token, list_tokens, revoke_token
from bookwise.errors import NotFound
from bookwise.http.api.common import MAX_ID, api_router, problems
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import delete, get, post
from bookwise.models import ApiToken

router = api_router("me")
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="The token's id.")]


class Me(BaseModel):
    """The signed-in user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ana@example.com", "role": "manager", "csm_seat": True}]
        }
    )

    email: str = Field(description="Your email.")
    role: str = Field(description="Your role: viewer, manager or admin.")
    csm_seat: bool = Field(description="True when you have a CSM seat (you can own accounts).")


_TOKEN_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "name": "nightly sync",
    "prefix": "bw_Xk3P9aQ",
    "created_at": "2026-03-01T08:00:00Z",
    "revoked_at": None,
}


class Token(BaseModel):
    """An API token (never its secret)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TOKEN_EXAMPLE]})

    id: int = Field(description="The token's id (to revoke it).")
    name: str = Field(description="What the token is for.")
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: datetime = Field(description="When it was created (UTC).")
    revoked_at: datetime | None = Field(description="When it was revoked; null while it works.")


class NewToken(Token):
    """A new token: ``token`` is the secret, shown this once."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_TOKEN_EXAMPLE, "token": "bw_Xk3P9aQ…"}]},
    )

    token: str = Field(description="The token itself: shown this once, never stored.")


class TokenToCreate(BaseModel):
    """A name for the new token."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "nightly sync"}]},
    )

    name: str = Field(
        min_length=1,
        max_length=100,
        examples=["nightly sync"],
        description="What the token is for.",
    )


class TokenList(BaseModel):
    """The caller's API tokens."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_TOKEN_EXAMPLE], "total": 1}]}
    )

    items: list[Token] = Field(description="The tokens.")
    total: int = Field(description="How many tokens there are.")


def _out(row: ApiToken) -> Token:
    return Token(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@get(router, "/me", role="viewer", response_model=Me, summary="Who am I", responses=problems())
def me(caller: CallerDep) -> Me:
    """Who the request is made as."""
    return Me(email=caller.email, role=caller.role, csm_seat=caller.csm_seat)


@get(
    router,
    "/tokens",
    role="viewer",
    response_model=TokenList,
    summary="List my API tokens",
    responses=problems(),
)
def tokens(request: Request, caller: CallerDep) -> TokenList:
    """The caller's API tokens, newest first."""
    with reading(request) as session:
        rows = list_tokens(session, user=acting_user(session, caller))
        items = [_out(row) for row in rows]
    return TokenList(items=items, total=len(items))


@post(
    router,
    "/tokens",
    role="viewer",
    response_model=NewToken,
    status_code=201,
    summary="Create an API token",
    responses=problems(400),
)
def new_token(request: Request, caller: CallerDep, body: TokenToCreate) -> NewToken:
    """Create an API token for the caller; the secret is in this response only."""

    def work(session: Session) -> NewToken:
        user = acting_user(session, caller)
        created = create_token(session, user=user, name=body.name, actor=user)
        return NewToken(**_out(created.token).model_dump(), token=created.secret)

    return writing(request, work)


@delete(
    router,
    "/tokens/{token_id}",
    role="viewer",
    response_model=Token,
    summary="Revoke an API token",
    responses=problems(404),
)
def delete_token(request: Request, caller: CallerDep, token_id: TokenId) -> Token:
    """Revoke one of the caller's tokens (admins may revoke anyone's)."""

    def work(session: Session) -> Token:
        user = acting_user(session, caller)
        owned = {row.id for row in list_tokens(session, user=user)}
        if token_id not in owned and user.role != "admin":
            raise NotFound(f"no API token {token_id}")
        return _out(revoke_token(session, token_id=token_id, actor=user))

    return writing(request, work)
