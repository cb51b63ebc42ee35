"""/api/v1/me and API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bookwise.auth.service import create_token, list_tokens, revoke_token
from bookwise.errors import NotFound
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import delete, get, post
from bookwise.models import ApiToken

router = APIRouter(prefix="/api/v1", tags=["me"])


class Me(BaseModel):
    """The signed-in user."""

    email: str
    role: str
    csm_seat: bool


class TokenOut(BaseModel):
    """An API token (never its secret)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    """A new token: ``token`` is the secret, shown this once."""

    token: str


class TokenIn(BaseModel):
    """A name for the new token."""

    name: str = Field(min_length=1, max_length=100, examples=["nightly sync"])


class TokenList(BaseModel):
    """The caller's API tokens."""

    items: list[TokenOut]
    total: int


def _out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@get(router, "/me", role="viewer", response_model=Me)
def me(caller: CallerDep) -> Me:
    """Who the request is made as."""
    return Me(email=caller.email, role=caller.role, csm_seat=caller.csm_seat)


@get(router, "/tokens", role="viewer", response_model=TokenList)
def tokens(request: Request, caller: CallerDep) -> TokenList:
    """The caller's API tokens, newest first."""
    with reading(request) as session:
        rows = list_tokens(session, user=acting_user(session, caller))
        items = [_out(row) for row in rows]
    return TokenList(items=items, total=len(items))


@post(router, "/tokens", role="viewer", response_model=TokenCreated, status_code=201)
def new_token(request: Request, caller: CallerDep, body: TokenIn) -> TokenCreated:
    """Create an API token for the caller; the secret is in this response only."""

    def work(session: Session) -> TokenCreated:
        user = acting_user(session, caller)
        created = create_token(session, user=user, name=body.name, actor=user)
        return TokenCreated(**_out(created.token).model_dump(), token=created.secret)

    return writing(request, work)


@delete(router, "/tokens/{token_id}", role="viewer", response_model=TokenOut)
def delete_token(request: Request, caller: CallerDep, token_id: int) -> TokenOut:
    """Revoke one of the caller's tokens (admins may revoke anyone's)."""

    def work(session: Session) -> TokenOut:
        user = acting_user(session, caller)
        owned = {row.id for row in list_tokens(session, user=user)}
        if token_id not in owned and user.role != "admin":
            raise NotFound(f"no API token {token_id}")
        return _out(revoke_token(session, token_id=token_id, actor=user))

    return writing(request, work)
