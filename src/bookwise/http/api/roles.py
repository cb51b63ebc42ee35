"""/api/v1/roles: the assignment roles (``csm`` and any a team adds); admins add.

Assignment roles say in what capacity a user owns an account (``csm``, ``account_manager``);
they are not the users' permission roles (viewer, manager, admin). The same services as
``bookwise roles add|list``, with the same checks and messages.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.assignments.roles import add_role, list_roles
from bookwise.http.api.common import api_router, problems
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.models import AssignmentRole

router = api_router("assignment roles")

_EXAMPLE: dict[str, Any] = {
    "name": "account_manager",
    "inheritable": True,
    "description": "Owns the commercial relationship",
}


class Role(BaseModel):
    """An assignment role."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(description="The role's name, as assignments and rules name it.")
    inheritable: bool = Field(
        description="True when children that inherit follow their parent's owners in this role."
    )
    description: str = Field(description="What it means.")


class RoleList(BaseModel):
    """Every assignment role, by name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EXAMPLE], "total": 1}]})

    items: list[Role] = Field(description="The roles, by name.")
    total: int = Field(description="How many there are.")


class RoleToAdd(BaseModel):
    """A new assignment role (as ``bookwise roles add``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(
        max_length=200,
        description="A lowercase letter, then lowercase letters, digits or _ (at most 40).",
    )
    inheritable: bool = Field(
        default=False, description="Children that inherit follow this role too."
    )
    description: str = Field(default="", max_length=300, description="What it means.")


def role_out(row: AssignmentRole) -> Role:
    """The API's view of an assignment role."""
    return Role(name=row.name, inheritable=row.inheritable, description=row.description)


@get(
    router,
    "/roles",
    role="viewer",
    response_model=RoleList,
    summary="List assignment roles",
    responses=problems(),
)
def list_all_roles(request: Request) -> RoleList:
    """Every assignment role, by name (as ``bookwise roles list``)."""
    with reading(request) as session:
        items = [role_out(row) for row in list_roles(session)]
    return RoleList(items=items, total=len(items))


@post(
    router,
    "/roles",
    role="admin",
    response_model=Role,
    status_code=201,
    summary="Add an assignment role",
    responses=problems(400, 409),
)
def add_assignment_role(request: Request, caller: CallerDep, body: RoleToAdd) -> Role:
    """Add an assignment role beside csm. After assigning an inheritable one, run the
    inherit operation (``POST /assignments/inherit``) to apply it to inheriting children."""

    def work(session: Session) -> Role:
        row = add_role(
            session,
            name=body.name,
            inheritable=body.inheritable,
            description=body.description,
            actor=acting_user(session, caller),
        )
        return role_out(row)

    return writing(request, work)
