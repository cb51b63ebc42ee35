"""Users (admins only): add, role, CSM seat, password, deactivate or activate; API tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session

from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.overview import book_sizes
from bookwise.auth.service import (
    create_token,
    list_tokens_with_owners,
    revoke_token,
    set_password,
)
from bookwise.errors import Conflict, InvalidInput
from bookwise.http.context import Caller, CallerDep, acting_user, reading, writing
from bookwise.http.routing import get as get_route
from bookwise.http.routing import post
from bookwise.http.web.bulk import STALE, Preview, show_preview
from bookwise.http.web.common import USER_ERRORS, ShownError, href
from bookwise.http.web.messages import redirect
from bookwise.http.web.templating import page
from bookwise.models import USER_ROLES, User
from bookwise.users.service import (
    build_user,
    create_user,
    get_user,
    list_users,
    set_active,
    set_csm_seat,
    set_role,
)

router = APIRouter(include_in_schema=False)


@dataclass
class NewUser:
    """The add-user form's values as typed (never the password)."""

    email: str = ""
    name: str = ""
    role: str = "viewer"
    csm_seat: bool = False


@get_route(router, "/users", role="admin")
def users(request: Request) -> Any:
    """Every user with role, seat, status and accounts; the API tokens."""
    return _users_page(request)


def _users_page(
    request: Request,
    *,
    error: ShownError | None = None,
    notice: str = "",
    typed: NewUser | None = None,
) -> Any:
    with reading(request) as session:
        people = list_users(session)
        sizes = book_sizes(session)
        rows = [
            {
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "csm_seat": u.csm_seat,
                "active": u.active,
                "accounts": sizes.get(u.id, 0),
            }
            for u in people
        ]
        tokens = [
            {
                "id": t.id,
                "user": email,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
            }
            for t, email in list_tokens_with_owners(session)
        ]
    return page(
        request,
        "users.html",
        error.status if error else 200,
        users=rows,
        seats=[r for r in rows if r["active"] and r["csm_seat"]],
        tokens=tokens,
        roles=USER_ROLES,
        typed=typed or NewUser(),
        error=error,
        notice=notice,
    )


def _act(request: Request, work: Callable[[Session], str], *, typed: NewUser | None = None) -> Any:
    """Run one change, then redirect to the list saying what it did (post/redirect/get); a
    refused change shows the list with why (and the add-user form as ``typed``)."""
    try:
        notice = writing(request, work)
    except USER_ERRORS as exc:
        return _users_page(request, error=ShownError.of(exc), typed=typed)
    return redirect(request, "/users", notice)


def person(user: User) -> str:
    """A user as a message names them: the name first, the email after it."""
    return f"{user.name} ({user.email})" if user.name else user.email


@post(router, "/users/add", role="admin")
def add_user(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "viewer",
    csm_seat: Annotated[bool, Form()] = False,
    password: Annotated[str, Form()] = "",
) -> Any:
    """Add a user, with an initial password when they will sign in."""

    def work(session: Session) -> str:
        actor = acting_user(session, caller)
        data = build_user(email=email, name=name.strip(), role=role, csm_seat=csm_seat)
        user = create_user(session, data=data, actor=actor)
        if password:
            set_password(session, user=user, password=password, actor=actor)
        seat = "with CSM seat" if csm_seat else "no CSM seat"
        signs_in = "can sign in" if password else "has no password yet"
        return f"Added {person(user)}: {user.role}, {seat}, {signs_in}."

    typed = NewUser(email=email, name=name, role=role, csm_seat=csm_seat)
    return _act(request, work, typed=typed)


@post(router, "/users/role", role="admin")
def change_role(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Form()],
    role: Annotated[str, Form()],
) -> Any:
    """Change what a user may do."""

    def work(session: Session) -> str:
        user = set_role(
            session, user=get_user(session, email), role=role, actor=acting_user(session, caller)
        )
        return f"{person(user)} is now a {user.role}."

    return _act(request, work)


@post(router, "/users/seat", role="admin")
def change_seat(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Form()],
    seat: Annotated[bool, Form()],
) -> Any:
    """Give or take a CSM seat (their current accounts stay; new ones need a seat)."""

    def work(session: Session) -> str:
        user = set_csm_seat(
            session, user=get_user(session, email), seat=seat, actor=acting_user(session, caller)
        )
        return f"{person(user)} {'now has' if seat else 'no longer has'} a CSM seat."

    return _act(request, work)


@post(router, "/users/password", role="admin")
def change_password(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()] = "",
) -> Any:
    """Set a user's password (at least 10 characters)."""

    def work(session: Session) -> str:
        user = get_user(session, email)
        set_password(session, user=user, password=password, actor=acting_user(session, caller))
        return f"Set a new password for {person(user)}."

    return _act(request, work)


@post(router, "/users/deactivate", role="admin")
def deactivate(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Form()],
    transfer_to: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
    previewed: Annotated[bool, Form()] = False,
) -> Any:
    """Deactivate a user: their accounts stay flagged (keep), or move to ``transfer_to``.

    A move is an ownership operation: it is previewed first (at ``GET /users/deactivate``, an
    address one can reload), and applied with the preview's fingerprint (a stale one
    redirects to the fresh preview, which says why).
    """
    asked = {"email": email, "transfer_to": transfer_to}
    preview_link = href("/users/deactivate", asked)
    if transfer_to.strip() and not previewed:
        shown = _preview_deactivation(request, caller, email, transfer_to, error=None)
        if shown is not None:  # None: they own nothing, so there is nothing to preview
            return redirect(request, preview_link)

    def work(session: Session) -> tuple[str, int | None]:
        user = get_user(session, email)
        _not_yourself(caller, user.email)
        target = get_user(session, transfer_to) if transfer_to.strip() else None
        result = deactivate_user(
            session,
            user=user,
            actor=acting_user(session, caller),
            transfer_to=target,
            keep=target is None,
            expected_fingerprint=fingerprint or None,
        )
        if result is not None and target is not None:
            moved = result.accounts_changed
            return (
                f"Deactivated {person(user)}: {moved:,} account{'s' if moved != 1 else ''} "
                f"moved to {person(target)}.",
                result.operation_id,
            )
        if target is not None:
            return f"Deactivated {person(user)}: they owned no accounts.", None
        return (
            f"Deactivated {person(user)}: any accounts they own stay, flagged owner inactive.",
            None,
        )

    try:
        notice, operation_id = writing(request, work)
    except Conflict as exc:
        if previewed:  # a stale preview: the fresh one, which says why
            return redirect(request, href("/users/deactivate", {**asked, "changed": "1"}))
        return _users_page(request, error=ShownError.of(exc))
    except USER_ERRORS as exc:
        return _users_page(request, error=ShownError.of(exc))
    return redirect(request, "/users", notice, operation_id=operation_id)


@get_route(router, "/users/deactivate", role="admin")
def deactivation_preview(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Query(max_length=320)] = "",
    transfer_to: Annotated[str, Query(max_length=320)] = "",
    changed: bool = False,
) -> Any:
    """The preview of moving a leaving user's accounts (what the Deactivate form redirects
    to); ``changed``: an apply found the accounts changed since the last preview."""
    error = STALE if changed else None
    shown = _preview_deactivation(request, caller, email, transfer_to, error=error)
    if shown is None:  # they own nothing (any more): deactivating needs no preview
        why = ShownError(
            message=f"{email} owns no accounts now: deactivate them with the button in the list."
        )
        return _users_page(request, error=why)
    return shown


def _preview_deactivation(
    request: Request, caller: Caller, email: str, transfer_to: str, error: ShownError | None
) -> Any:
    """The preview page of moving a leaving user's accounts, with Deactivate as its Apply;
    None when they own nothing (the deactivation then needs no preview)."""

    def work(session: Session) -> Preview | None:
        user = get_user(session, email)
        _not_yourself(caller, user.email)
        target = get_user(session, transfer_to)
        result = deactivate_user(
            session,
            user=user,
            actor=acting_user(session, caller),
            transfer_to=target,
            dry_run=True,
        )
        if result is None:
            return None
        who, to = user.name or user.email, target.name or target.email
        return Preview(
            headline=f"Deactivate {who} and move their accounts to {to}",
            result=result,
            apply_to="/users/deactivate",
            fields=[("email", user.email), ("transfer_to", target.email), ("previewed", "1")],
            back="/users",
            details=[
                ("Leaving", f"{who} ({user.email})"),
                ("Taking over", f"{to} ({target.email})"),
            ],
            notes=[
                "Every account they own moves, role by role; children that follow a parent "
                "move with it. The move is one operation: undo it on the Operations page."
            ],
            apply_label="Deactivate",
            applicable=True,
        )

    try:
        preview = writing(request, work)
    except USER_ERRORS as exc:
        return show_preview(request, None, back="/users", error=ShownError.of(exc))
    if preview is None:
        return None
    return show_preview(request, preview, back="/users", error=error)


def _not_yourself(caller: Caller, email: str) -> None:
    if caller.email.casefold() == email.casefold():
        raise InvalidInput("you cannot deactivate yourself; ask another admin")


@post(router, "/users/activate", role="admin")
def activate(request: Request, caller: CallerDep, email: Annotated[str, Form()]) -> Any:
    """Make a deactivated user active again (kept accounts count as theirs again)."""

    def work(session: Session) -> str:
        user = set_active(
            session, user=get_user(session, email), active=True, actor=acting_user(session, caller)
        )
        return f"Activated {person(user)}."

    return _act(request, work)


@post(router, "/users/tokens", role="admin")
def new_token(
    request: Request,
    caller: CallerDep,
    email: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
) -> Any:
    """Create an API token for a user; its secret is shown on the next page only."""

    def work(session: Session) -> dict[str, str]:
        user = get_user(session, email)
        created = create_token(session, user=user, name=name, actor=acting_user(session, caller))
        return {"user": user.email, "name": created.token.name, "secret": created.secret}

    try:
        token = writing(request, work)
    except USER_ERRORS as exc:
        return _users_page(request, error=ShownError.of(exc))
    response = page(request, "token_created.html", token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@post(router, "/users/tokens/revoke", role="admin")
def revoke(request: Request, caller: CallerDep, token_id: Annotated[int, Form()]) -> Any:
    """Revoke an API token: it fails from the next request on."""

    def work(session: Session) -> str:
        row = revoke_token(session, token_id=token_id, actor=acting_user(session, caller))
        return f"Revoked API token “{row.name}” ({row.prefix}…)."

    return _act(request, work)
