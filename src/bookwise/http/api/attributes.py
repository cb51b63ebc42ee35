"""/api/v1/attributes: the custom account attributes (everyone reads; admins declare, rename).

The same services as ``bookwise attributes add|rename|list``, with the same checks and
messages: a name is a letter or ``_`` followed by letters, digits or ``_``; a ``choice``
attribute needs its choices and no other type takes any; a taken name is a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.accounts.service import declare_attribute, list_attributes
from bookwise.http.api.common import api_router, problems
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.models import AttributeDefinition
from bookwise.segments.service import rename_attribute

router = api_router("attributes")
AttributeType = Literal["text", "number", "money", "date", "boolean", "choice"]
AttributeName = Annotated[
    str, Path(max_length=200, description="The attribute's current name.", examples=["plan"])
]

_EXAMPLE: dict[str, Any] = {
    "name": "plan",
    "type": "choice",
    "choices": ["free", "pro", "enterprise"],
    "description": "The plan on the contract",
    "created_at": "2026-03-01T08:00:00Z",
}


class Attribute(BaseModel):
    """A declared custom attribute: its name, type, choices and meaning."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(description="The name rules and files use (as `custom.NAME` in rules).")
    type: AttributeType = Field(description="The value type every account's value is checked as.")
    choices: list[str] = Field(description="The allowed values of a choice attribute, else [].")
    description: str = Field(description="What it means.")
    created_at: datetime = Field(description="When it was declared (UTC).")


class AttributeList(BaseModel):
    """Every declared custom attribute, by name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EXAMPLE], "total": 1}]})

    items: list[Attribute] = Field(description="The attributes, by name.")
    total: int = Field(description="How many there are.")


class AttributeToDeclare(BaseModel):
    """A new custom attribute (as ``bookwise attributes add``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "plan", "type": "choice", "choices": ["free", "pro", "enterprise"]},
                {"name": "renewal_date", "type": "date", "description": "Next renewal"},
            ]
        },
    )

    name: str = Field(max_length=200, description="A letter or _ then letters, digits or _.")
    type: AttributeType = Field(description="The value type.")
    choices: list[str] | None = Field(
        default=None, description="For type choice (and only for it): the allowed values."
    )
    description: str = Field(default="", max_length=500, description="What it means.")


class AttributeRename(BaseModel):
    """The attribute's new name."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "tier"}]})

    name: str = Field(max_length=200, description="The new name (same rules as a new one).")


class RenamedAttribute(BaseModel):
    """The renamed attribute and the segments whose rules were rewritten to the new name."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"attribute": {**_EXAMPLE, "name": "tier"}, "segments": ["Pro plans"]}]
        }
    )

    attribute: Attribute = Field(description="The attribute under its new name.")
    segments: list[str] = Field(description="The segments whose rules now use the new name.")


def attribute_out(row: AttributeDefinition) -> Attribute:
    """The API's view of a declared attribute."""
    return Attribute(
        name=row.name,
        type=row.type,
        choices=list(row.choices or []),
        description=row.description,
        created_at=row.created_at,
    )


@get(
    router,
    "/attributes",
    role="viewer",
    response_model=AttributeList,
    summary="List custom attributes",
    responses=problems(),
)
def list_all_attributes(request: Request) -> AttributeList:
    """Every declared custom attribute, by name (as ``bookwise attributes list``)."""
    with reading(request) as session:
        items = [attribute_out(row) for row in list_attributes(session)]
    return AttributeList(items=items, total=len(items))


@post(
    router,
    "/attributes",
    role="admin",
    response_model=Attribute,
    status_code=201,
    summary="Declare a custom attribute",
    responses=problems(400, 409),
)
def add_attribute(request: Request, caller: CallerDep, body: AttributeToDeclare) -> Attribute:
    """Declare a custom account attribute with its type; values are checked against it."""

    def work(session: Session) -> Attribute:
        row = declare_attribute(
            session,
            name=body.name,
            type=body.type,
            choices=[c.strip() for c in body.choices if c.strip()] if body.choices else None,
            description=body.description.strip(),
            actor=acting_user(session, caller),
        )
        return attribute_out(row)

    return writing(request, work)


@post(
    router,
    "/attributes/{name}/rename",
    role="admin",
    response_model=RenamedAttribute,
    summary="Rename a custom attribute",
    responses=problems(400, 404, 409),
)
def rename_one_attribute(
    request: Request, caller: CallerDep, name: AttributeName, body: AttributeRename
) -> RenamedAttribute:
    """Rename a custom attribute in every account, and rewrite the segment rules that use it
    (as ``bookwise attributes rename``)."""

    def work(session: Session) -> RenamedAttribute:
        segments = rename_attribute(
            session, old=name, new=body.name, actor=acting_user(session, caller)
        )
        row = session.get(AttributeDefinition, body.name.strip())
        assert row is not None  # just renamed in this transaction
        return RenamedAttribute(attribute=attribute_out(row), segments=segments)

    return writing(request, work)
