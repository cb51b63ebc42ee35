"""/api/v1/segments: saved rules, their live members and their materialised membership."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from bookwise import models
from bookwise.assignments.listing import count_accounts
from bookwise.http.api.accounts import AccountList, account_listing
from bookwise.http.api.common import api_router, problems
from bookwise.http.api.filters import (
    API_WORDING,
    DEFAULT_LIMIT,
    Limit,
    Offset,
    RuleValue,
    SegmentName,
    Sort,
)
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import delete, get, patch, post
from bookwise.segments import service
from bookwise.segments.rules import compile_where
from bookwise.segments.selection import AccountFilter

router = api_router("segments")

NamePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="The segment's name (case, spacing and curly quotes are ignored).",
        examples=["Enterprise EMEA"],
    ),
]
_SEGMENT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "name": "Enterprise EMEA",
    "rule": 'tier = 1 and region = "EMEA"',
    "description": "Tier 1 accounts in Europe",
    "members": 118,
    "refreshed_at": "2026-03-02T06:00:00Z",
}


class Segment(BaseModel):
    """A saved segment; ``members`` counts them as of the last refresh."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SEGMENT_EXAMPLE]})

    id: int = Field(description="The segment's id.")
    name: str = Field(description="The segment's name.")
    rule: str = Field(description="The rule in canonical text.")
    description: str = Field(description="What the segment is for.")
    members: int = Field(description="Members at the last refresh (0 before the first).")
    refreshed_at: datetime | None = Field(
        description="When its members were last refreshed (UTC); null if never."
    )


class SegmentDetail(Segment):
    """A segment with its rule in English and as JSON, its live member count, and its users."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_SEGMENT_EXAMPLE,
                    "english": "tier is 1 and region is EMEA",
                    "rule_ast": {
                        "kind": "and",
                        "items": [
                            {
                                "kind": "condition",
                                "field": "tier",
                                "op": "=",
                                "value": {"type": "number", "value": "1"},
                            },
                            {
                                "kind": "condition",
                                "field": "region",
                                "op": "=",
                                "value": {"type": "string", "value": "EMEA"},
                            },
                        ],
                    },
                    "live_members": 121,
                    "used_by": ["EMEA at risk"],
                }
            ]
        }
    )

    english: str = Field(description="The rule in words.")
    rule_ast: dict[str, Any] = Field(description="The rule's JSON form.")
    live_members: int = Field(description="Members right now (the rule evaluated live).")
    used_by: list[str] = Field(description="Segments whose rules refer to this one.")


class SegmentList(BaseModel):
    """Every segment, by name."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_SEGMENT_EXAMPLE], "total": 1}]}
    )

    items: list[Segment] = Field(description="The segments.")
    total: int = Field(description="How many segments there are.")


class NewSegment(BaseModel):
    """A new segment: a name and a rule (text or JSON), checked when saved."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Enterprise EMEA",
                    "rule": 'tier = 1 and region = "EMEA"',
                    "description": "Tier 1 accounts in Europe",
                }
            ]
        },
    )

    name: SegmentName = Field(description="The segment's name.")
    rule: RuleValue
    description: str = Field(default="", max_length=1000, description="What the segment is for.")


class SegmentChanges(BaseModel):
    """What to change; a rename is followed by every rule that refers to the segment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"rule": 'tier <= 2 and region = "EMEA"'}, {"name": "EMEA enterprise"}]
        },
    )

    name: SegmentName | None = Field(default=None, description="A new name.")
    rule: RuleValue | None = Field(default=None, description="A new rule (text or JSON).")
    description: str | None = Field(default=None, max_length=1000, description="A new description.")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.name is None and self.rule is None and self.description is None:
            raise ValueError("give name, rule or description")
        return self


class RefreshRequest(BaseModel):
    """Which segments to refresh (all when ``names`` is left out)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"names": ["Enterprise EMEA"]}, {}]}
    )

    names: list[SegmentName] | None = Field(
        default=None, max_length=1000, description="The segments to refresh; none: every segment."
    )


class RefreshResult(service.RefreshResult):
    """What one refresh changed in a segment's materialised membership; ``error`` says why a
    segment was not refreshed (its rule is over the rule budget), and it is left as it was."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "segment": "Enterprise EMEA",
                    "entered": 4,
                    "left": 1,
                    "members": 121,
                    "refreshed_at": "2026-03-02T06:00:00Z",
                }
            ]
        }
    )


class RefreshList(BaseModel):
    """One result per refreshed segment."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": RefreshResult.model_json_schema()["examples"], "total": 1}]
        }
    )

    items: list[RefreshResult] = Field(description="One result per segment refreshed.")
    total: int = Field(description="How many segments were refreshed.")


def _summary(segment: models.Segment, members: int) -> Segment:
    return Segment(
        id=segment.id,
        name=segment.name,
        rule=segment.rule_text,
        description=segment.description,
        members=members,
        refreshed_at=segment.refreshed_at,
    )


def _detail(session: Session, segment: models.Segment) -> SegmentDetail:
    compiled = compile_where(session, segment.rule)
    members = service.materialised_counts(session, segment_ids=[segment.id]).get(segment.id, 0)
    return SegmentDetail(
        **_summary(segment, members).model_dump(),
        english=compiled.english,
        rule_ast=segment.rule,
        live_members=count_accounts(session, where=[compiled.where]),
        used_by=service.users_of(session, segment),
    )


@get(
    router,
    "/segments",
    role="viewer",
    response_model=SegmentList,
    summary="List segments",
    responses=problems(),
)
def list_segments(request: Request) -> SegmentList:
    """Every segment with its rule and its members as of its last refresh."""
    with reading(request) as session:
        counts = service.materialised_counts(session)
        items = [_summary(s, counts.get(s.id, 0)) for s in service.list_segments(session)]
    return SegmentList(items=items, total=len(items))


@post(
    router,
    "/segments",
    role="manager",
    response_model=SegmentDetail,
    status_code=201,
    summary="Create a segment",
    responses=problems(400, 404, 409),
)
def create_segment(request: Request, caller: CallerDep, body: NewSegment) -> SegmentDetail:
    """Save a named rule; it is checked now (fields, users, other segments, no cycles)."""

    def work(session: Session) -> SegmentDetail:
        segment = service.create_segment(
            session,
            name=body.name,
            rule=body.rule,
            description=body.description,
            actor=acting_user(session, caller),
        )
        return _detail(session, segment)

    return writing(request, work)


@get(
    router,
    "/segments/{name}",
    role="viewer",
    response_model=SegmentDetail,
    summary="Show a segment",
    responses=problems(404),
)
def get_segment(request: Request, name: NamePath) -> SegmentDetail:
    """A segment: its rule as text, in English and as JSON, live member count, and users."""
    with reading(request) as session:
        return _detail(session, service.get_segment(session, name))


@patch(
    router,
    "/segments/{name}",
    role="manager",
    response_model=SegmentDetail,
    summary="Change a segment",
    responses=problems(400, 404, 409),
)
def change_segment(
    request: Request, caller: CallerDep, name: NamePath, body: SegmentChanges
) -> SegmentDetail:
    """Change a segment's rule, name or description (rules that use it follow a rename)."""

    def work(session: Session) -> SegmentDetail:
        segment = service.update_segment(
            session,
            name=name,
            new_name=body.name,
            rule=body.rule,
            description=body.description,
            actor=acting_user(session, caller),
        )
        return _detail(session, segment)

    return writing(request, work)


@delete(
    router,
    "/segments/{name}",
    role="manager",
    status_code=204,
    response_class=Response,
    summary="Delete a segment",
    responses={**problems(404, 409), 204: {"description": "The segment was deleted."}},
)
def delete_segment(request: Request, caller: CallerDep, name: NamePath) -> Response:
    """Delete a segment and its membership history; a 409 while another segment uses it."""

    def work(session: Session) -> None:
        service.delete_segment(session, name=name, actor=acting_user(session, caller))

    writing(request, work)
    return Response(status_code=204)


@get(
    router,
    "/segments/{name}/members",
    role="viewer",
    response_model=AccountList,
    summary="A segment's members",
    responses=problems(404),
)
def list_segment_members(
    request: Request,
    name: NamePath,
    sort: Sort = "name",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> AccountList:
    """The segment's members right now (its rule evaluated live), a page at a time."""
    with reading(request) as session:
        members = AccountFilter(segment=name, wording=API_WORDING)
        return account_listing(session, members, sort=sort, limit=limit, offset=offset)


@post(
    router,
    "/segments/refresh",
    role="manager",
    response_model=RefreshList,
    summary="Refresh segment membership",
    responses=problems(400, 404),
)
def refresh_segments(
    request: Request, caller: CallerDep, body: RefreshRequest | None = None
) -> RefreshList:
    """Record who entered and who left each segment (all, or those named) since its last
    refresh; one set-based pass per segment."""
    names = body.names if body is not None else None

    def work(session: Session) -> RefreshList:
        actor = acting_user(session, caller)
        results = service.refresh_segments(session, names=names or None, actor=actor)
        items = [RefreshResult.model_validate(r.model_dump()) for r in results]
        return RefreshList(items=items, total=len(items))

    return writing(request, work)
