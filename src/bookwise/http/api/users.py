"""/api/v1/users (list; admins add, change, deactivate, set passwords) and /api/v1/csms."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from bookwise import models
from bookwise.assignments import schemas
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.overview import CsmOverview as CountedOverview
from bookwise.assignments.overview import book_sizes
from bookwise.assignments.overview import csm_overview as counted_overview
from bookwise.auth.service import set_password
from bookwise.errors import InvalidInput
from bookwise.http.api.common import api_router, problems
from bookwise.http.api.filters import Email, RoleName
from bookwise.http.api.operations import OperationResult, result_out
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, patch, post
from bookwise.users.service import (
    build_user,
    create_user,
    get_user,
    list_users,
    refuse_last_admin,
    set_active,
    set_csm_seat,
    set_role,
)

router = api_router("users")
csms_router = api_router("csms")
UserRole = Literal["admin", "manager", "viewer"]
EmailPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=320,
        description="The user's email (any case).",
        examples=["ana@example.com"],
    ),
]
_USER_EXAMPLE: dict[str, Any] = {
    "email": "ana@example.com",
    "name": "Ana Lima",
    "role": "manager",
    "csm_seat": True,
    "active": True,
    "external_id": "0055e000001AbCdAAK",
    "accounts": 212,
}


class User(BaseModel):
    """A user, with the number of accounts they own (role csm)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_USER_EXAMPLE]})

    email: str = Field(description="The user's email (sign-in name).")
    name: str = Field(description="The user's name.")
    role: UserRole = Field(description="The user's role: viewer, manager or admin.")
    csm_seat: bool = Field(description="Only users with a CSM seat can receive accounts.")
    active: bool = Field(description="False once deactivated: cannot sign in or own accounts.")
    external_id: str | None = Field(description="The user's id in the CRM (OwnerId).")
    accounts: int = Field(description="Accounts the user owns now (role csm).")


class UserList(BaseModel):
    """Every user (the built-in CLI user is never listed)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_USER_EXAMPLE], "total": 1}]}
    )

    items: list[User] = Field(description="The users.")
    total: int = Field(description="How many users there are.")


class NewUser(BaseModel):
    """A new user; give them a CSM seat so that they can own accounts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": "ana@example.com",
                    "name": "Ana Lima",
                    "role": "manager",
                    "csm_seat": True,
                    "password": "correct horse battery",
                }
            ]
        },
    )

    email: Email = Field(description="The user's email (sign-in name).")
    name: str = Field(default="", max_length=200, description="The user's name.")
    role: UserRole = Field(
        default="viewer", description="The user's role: viewer, manager or admin."
    )
    csm_seat: bool = Field(default=False, description="True to let the user own accounts.")
    active: bool = Field(default=True, description="False to create the user deactivated.")
    external_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="The user's id in the CRM, if any."
    )
    password: str | None = Field(
        default=None,
        max_length=1000,
        description="Lets the user sign in to the web app (at least 10 characters). Without "
        "one, set it later with POST /users/{email}/password.",
    )


class UserChanges(BaseModel):
    """What to change; fields left out stay as they are.

    Deactivating a user who still owns accounts needs ``transfer_to`` (their book moves in one
    undoable operation) or ``keep`` (the accounts stay, listed under no-one as owner inactive).
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"role": "admin"},
                {"csm_seat": False},
                {"active": False, "transfer_to": "ben@example.com", "dry_run": True},
                {"active": False, "keep": True},
            ]
        },
    )

    role: UserRole | None = Field(default=None, description="A new role.")
    csm_seat: bool | None = Field(default=None, description="Give or take the CSM seat.")
    active: bool | None = Field(
        default=None, description="False deactivates the user (their accounts lose them as owner)."
    )
    transfer_to: Email | None = Field(
        default=None, description="With active=false: who takes the user's accounts."
    )
    keep: bool = Field(
        default=False, description="With active=false: leave the accounts with the user."
    )
    dry_run: bool = Field(default=False, description="Preview the change and write nothing.")
    fingerprint: str | None = Field(
        default=None,
        description="With transfer_to: apply only if the accounts to move are still those a "
        "dry run previewed (its deactivation's fingerprint); else 409.",
    )

    @model_validator(mode="after")
    def _deactivation_options(self) -> Self:
        if (self.transfer_to is not None or self.keep) and self.active is not False:
            raise ValueError("transfer_to and keep only apply together with active=false")
        if self.transfer_to is not None and self.keep:
            raise ValueError("give either transfer_to or keep, not both")
        return self


class UserChange(BaseModel):
    """The user after the change and, for a deactivation that moved accounts, the operation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user": {**_USER_EXAMPLE, "active": False}, "deactivation": None, "dry_run": False}
            ]
        }
    )

    user: User
    deactivation: OperationResult | None = Field(
        description="What deactivating did to the user's accounts; null if not deactivated."
    )
    dry_run: bool = Field(description="True for a preview: nothing was written.")


class NewPassword(BaseModel):
    """A new password for the web app."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"password": "correct horse battery"}]},
    )

    password: str = Field(max_length=1000, description="At least 10 characters.")


class CsmOverview(CountedOverview):
    """Every active CSM-seat user's book, and team totals counted once per account."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "email": "ana@example.com",
                            "name": "Ana Lima",
                            "accounts": 212,
                            "mrr": "184200.00",
                        }
                    ],
                    "total": 1,
                    "team_accounts": 212,
                    "team_mrr": "184200.00",
                    "unassigned_accounts": 37,
                    "counting": "each co-owner gets full credit; team totals count distinct "
                    "accounts",
                }
            ]
        },
    )


def _user_out(user: models.User, sizes: dict[int, int]) -> User:
    return User(
        email=user.email,
        name=user.name,
        role=user.role,
        csm_seat=user.csm_seat,
        active=user.active,
        external_id=user.external_id,
        accounts=sizes.get(user.id, 0),
    )


@get(
    router,
    "/users",
    role="viewer",
    response_model=UserList,
    summary="List users",
    responses=problems(),
)
def list_all_users(
    request: Request,
    include_inactive: Annotated[
        bool, Query(description="Include deactivated users (the default).")
    ] = True,
) -> UserList:
    """Every user by email: role, CSM seat, active, CRM id and the number of accounts owned."""
    with reading(request) as session:
        users = list_users(session, include_inactive=include_inactive)
        sizes = book_sizes(session)
        items = [_user_out(u, sizes) for u in users]
    return UserList(items=items, total=len(items))


@post(
    router,
    "/users",
    role="admin",
    response_model=User,
    status_code=201,
    summary="Add a user",
    responses=problems(400, 409),
)
def add_user(request: Request, caller: CallerDep, body: NewUser) -> User:
    """Add a user (a 409 if the email exists, in any case); optionally with a password."""
    data = build_user(**body.model_dump(exclude={"password"}))

    def work(session: Session) -> User:
        actor = acting_user(session, caller)
        user = create_user(session, data=data, actor=actor)
        if body.password is not None:
            set_password(session, user=user, password=body.password, actor=actor)
        return _user_out(user, {})

    return writing(request, work)


@patch(
    router,
    "/users/{email}",
    role="admin",
    response_model=UserChange,
    summary="Change a user's role, seat or status",
    responses=problems(400, 404, 409),
)
def change_user(
    request: Request, caller: CallerDep, email: EmailPath, body: UserChanges
) -> UserChange:
    """Change role, CSM seat or active status; deactivate with ``transfer_to`` or ``keep``.

    Refused (409) when the user still owns accounts and neither is given, when the new owner
    cannot receive accounts, and when it would leave no active admin.
    """

    def work(session: Session) -> UserChange:
        actor = acting_user(session, caller)
        user = get_user(session, email)
        if user.is_system:
            raise InvalidInput("the built-in CLI user cannot be changed")
        target = get_user(session, body.transfer_to) if body.transfer_to else None
        savepoint = session.begin_nested() if body.dry_run else None
        try:
            deactivation = _apply(session, body, user=user, actor=actor, target=target)
            changed = UserChange(
                user=_user_out(user, book_sizes(session)),
                deactivation=result_out(deactivation) if deactivation else None,
                dry_run=body.dry_run,
            )
        finally:
            if savepoint is not None and savepoint.is_active:
                savepoint.rollback()
        if changed.deactivation is not None and body.dry_run:
            changed.deactivation.dry_run = True
            changed.deactivation.operation_id = None
        return changed

    return writing(request, work)


def _apply(
    session: Session,
    body: UserChanges,
    *,
    user: models.User,
    actor: models.User,
    target: models.User | None,
) -> schemas.OperationResult | None:
    """Make the changes in order: role, seat, then status (a deactivation is an operation)."""
    if body.role is not None:
        set_role(session, user=user, role=body.role, actor=actor)
    if body.csm_seat is not None:
        set_csm_seat(session, user=user, seat=body.csm_seat, actor=actor)
    if body.active is True:
        set_active(session, user=user, active=True, actor=actor)
    elif body.active is False and user.active:
        refuse_last_admin(session, user=user)
        return deactivate_user(
            session,
            user=user,
            actor=actor,
            transfer_to=target,
            keep=body.keep,
            expected_fingerprint=body.fingerprint,
        )
    return None


@post(
    router,
    "/users/{email}/password",
    role="admin",
    status_code=204,
    response_class=Response,
    summary="Set a user's password",
    responses={**problems(400, 404), 204: {"description": "The password was set."}},
)
def set_user_password(
    request: Request, caller: CallerDep, email: EmailPath, body: NewPassword
) -> Response:
    """Set the password the user signs in to the web app with; their browser sessions end."""

    def work(session: Session) -> None:
        user = get_user(session, email)
        set_password(session, user=user, password=body.password, actor=acting_user(session, caller))

    writing(request, work)
    return Response(status_code=204)


@get(
    csms_router,
    "/csms",
    role="viewer",
    response_model=CsmOverview,
    summary="The CSM overview",
    responses=problems(),
)
def csm_overview(
    request: Request,
    role: Annotated[RoleName, Query(description="The assignment role counted.")] = "csm",
) -> CsmOverview:
    """Every active CSM-seat user with the number of accounts they own and their MRR.

    Each co-owner gets full credit; team totals count each account once.
    """
    with reading(request) as session:
        overview = counted_overview(session, role=role)
    return CsmOverview.model_validate(overview, from_attributes=True)
