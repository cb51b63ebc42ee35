"""My tokens (every signed-in user): create an API token (its secret shown once), list and
revoke one's own, with the services ``/api/v1/tokens`` uses. Admins manage everyone's on the
Users page; here each person manages only their own, as the API lets them.

Creating answers with the secret on the page itself rather than redirecting: the secret must
not travel in a cookie or an address, and the page is sent ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session

from bookwise.auth.service import create_token, list_tokens, revoke_token
from bookwise.errors import NotFound
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.common import USER_ERRORS, ShownError
from bookwise.http.web.messages import redirect
from bookwise.http.web.templating import page
from bookwise.users.service import get_user

router = APIRouter(include_in_schema=False)


@get(router, "/tokens", role="viewer")
def my_tokens(request: Request, caller: CallerDep) -> Any:
    """The caller's API tokens, newest first, with the form to create one."""
    return _tokens_page(request, caller.email)


def _tokens_page(
    request: Request, email: str, error: ShownError | None = None, typed: str = ""
) -> Any:
    with reading(request) as session:
        rows = list_tokens(session, user=get_user(session, email))
        tokens = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
            }
            for t in rows
        ]
    status = error.status if error else 200
    return page(request, "my_tokens.html", status, tokens=tokens, error=error, typed=typed)


@post(router, "/tokens", role="viewer")
def new_token(request: Request, caller: CallerDep, name: Annotated[str, Form()] = "") -> Any:
    """Create an API token for the caller; its secret is shown on the answer only."""

    def work(session: Session) -> dict[str, str]:
        user = acting_user(session, caller)
        created = create_token(session, user=user, name=name, actor=user)
        return {"user": user.email, "name": created.token.name, "secret": created.secret}

    try:
        token = writing(request, work)
    except USER_ERRORS as exc:
        return _tokens_page(request, caller.email, ShownError.of(exc), typed=name)
    response = page(
        request, "token_created.html", token=token, back="/tokens", back_label="My tokens"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@post(router, "/tokens/revoke", role="viewer")
def revoke(request: Request, caller: CallerDep, token_id: Annotated[int, Form()]) -> Any:
    """Revoke one of the caller's own tokens: it fails from the next request on."""

    def work(session: Session) -> str:
        user = acting_user(session, caller)
        if token_id not in {row.id for row in list_tokens(session, user=user)}:
            raise NotFound(f"you have no API token {token_id}")
        row = revoke_token(session, token_id=token_id, actor=user)
        return f"Revoked your API token “{row.name}” ({row.prefix}…)."

    try:
        message = writing(request, work)
    except USER_ERRORS as exc:
        return _tokens_page(request, caller.email, ShownError.of(exc))
    return redirect(request, "/tokens", message)
