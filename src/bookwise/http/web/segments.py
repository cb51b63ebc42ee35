"""Segments: the list, create and edit with a live preview, members, refresh and delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session

from bookwise.assignments.listing import list_accounts
from bookwise.errors import NotFound
from bookwise.http.context import CallerDep, acting_user, reading, writing
from bookwise.http.routing import get, post
from bookwise.http.web.columns import COLUMNS, owner_names
from bookwise.http.web.common import USER_ERRORS, PageNumber, Pager, ShownError, SortedLinks, href
from bookwise.http.web.messages import redirect, sentence
from bookwise.http.web.templating import page
from bookwise.models import Segment
from bookwise.rules import ast
from bookwise.rules.printer import print_rule
from bookwise.segments import service
from bookwise.segments.rules import compile_where

router = APIRouter(include_in_schema=False)

PREVIEW_SIZE = 20
MEMBER_COLUMNS = [
    COLUMNS[key] for key in ("external_id", "tier", "mrr", "health_score", "depth", "csms")
]


@dataclass
class SegmentForm:
    """The create/edit form's values, as typed."""

    name: str = ""
    rule: str = ""
    description: str = ""


@get(router, "/segments", role="viewer")
def segments(request: Request) -> Any:
    """Every segment: name, rule, members at the last refresh."""
    return _list_page(request)


def _list_page(request: Request, *, error: ShownError | None = None) -> Any:
    with reading(request) as session:
        counts = service.materialised_counts(session)
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "rule": s.rule_text,
                "description": s.description,
                "members": counts.get(s.id, 0),
                "refreshed_at": s.refreshed_at,
            }
            for s in service.list_segments(session)
        ]
    return page(
        request,
        "segments.html",
        error.status if error else 200,
        segments=rows,
        error=error,
    )


Typed = Annotated[str, Query(max_length=20_000)]


@get(router, "/segments/new", role="manager")
def new_segment(
    request: Request,
    name: Typed = "",
    rule: Typed = "",
    description: Typed = "",
    preview: bool = False,
) -> Any:
    """The form for a new segment; with ``preview`` (where Preview redirects), the form as
    typed with the rule's count and first members."""
    form = SegmentForm(name=name, rule=rule, description=description)
    return _form_page(request, form, segment_id=None, preview=preview)


@post(router, "/segments/new", role="manager")
def create_segment(
    request: Request,
    caller: CallerDep,
    name: Annotated[str, Form()] = "",
    rule: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    intent: Annotated[Literal["preview", "save"], Form()] = "save",
) -> Any:
    """Preview the members (the form again, with the first 20 and the count), or save."""

    def work(session: Session) -> int:
        return service.create_segment(
            session,
            name=name,
            rule=rule,
            description=description,
            actor=acting_user(session, caller),
        ).id

    form = SegmentForm(name=name, rule=rule, description=description)
    return _save(request, form, segment_id=None, intent=intent, work=work)


def _save(
    request: Request,
    form: SegmentForm,
    *,
    segment_id: int | None,
    intent: str,
    work: Callable[[Session], int],
) -> Any:
    """Preview the form (a redirect to the form as typed, with the preview: an address one
    can reload), or save it and go to the segment (a refusal keeps the form)."""
    if intent == "preview":
        path = f"/segments/{segment_id}/edit" if segment_id else "/segments/new"
        typed = {"name": form.name, "rule": form.rule, "description": form.description}
        return redirect(request, href(path, {**typed, "preview": "1"}))
    try:
        saved = writing(request, work)
    except USER_ERRORS as exc:
        return _form_page(request, form, segment_id=segment_id, error=ShownError.of(exc))
    return redirect(request, f"/segments/{saved}", f"Saved segment “{form.name.strip()}”.")


@post(router, "/segments/refresh", role="manager")
def refresh(request: Request, caller: CallerDep) -> Any:
    """Record who entered and left every segment since its last refresh."""

    def work(session: Session) -> list[service.RefreshResult]:
        return service.refresh_segments(session, actor=acting_user(session, caller))

    results = writing(request, work)
    done = [r for r in results if r.error is None]
    entered = sum(r.entered for r in done)
    left = sum(r.left for r in done)
    notice = f"Refreshed {len(done)} segments: {entered:,} entries, {left:,} exits."
    notice += "".join(f" {sentence(r.error)}" for r in results if r.error)
    return redirect(request, "/segments", notice)


def _segment(session: Session, segment_id: int) -> Segment:
    found = session.get(Segment, segment_id)
    if found is None:
        raise NotFound(f"no segment {segment_id}")
    return found


@get(router, "/segments/{segment_id}", role="viewer")
def members(
    request: Request,
    segment_id: int,
    sort: str = "name",
    number: PageNumber = 1,
) -> Any:
    """A segment's rule in words and its members right now (paginated, sortable)."""
    pager = Pager.of(number)
    error: ShownError | None = None
    listing = None
    with reading(request) as session:
        segment = _segment(session, segment_id)
        details = {
            "id": segment.id,
            "name": segment.name,
            "rule": segment.rule_text,
            "description": segment.description,
            "refreshed_at": segment.refreshed_at,
            "english": "",
            "used_by": service.users_of(session, segment),
            "materialised": service.materialised_counts(session, segment_ids=[segment.id]).get(
                segment.id, 0
            ),
        }
        try:
            # Compiled once for its words and its live members (segment_members would load
            # the catalog and compile the same rule a second time).
            compiled = compile_where(session, segment.rule)
            details["english"] = compiled.english
            listing = list_accounts(
                session, where=[compiled.where], sort=sort, limit=pager.size, offset=pager.offset
            )
            pager = pager.showing(len(listing.items), listing.total)
            names = owner_names(session, listing)
        except USER_ERRORS as exc:
            error, names = ShownError.of(exc), {}
    links = SortedLinks(f"/segments/{segment_id}", sort)
    return page(
        request,
        "segment.html",
        error.status if error else 200,
        segment=details,
        listing=listing,
        pager=pager,
        sort=sort,
        columns=MEMBER_COLUMNS,
        names=names,
        page_link=links.page,
        sort_link=links.sorted_by,
        accounts_link=href(
            "/accounts", {"where": print_rule(ast.SegmentRef(name=details["name"]))}
        ),
        error=error,
    )


@get(router, "/segments/{segment_id}/edit", role="manager")
def edit_segment(
    request: Request,
    segment_id: int,
    name: Typed = "",
    rule: Typed = "",
    description: Typed = "",
    preview: bool = False,
) -> Any:
    """The form for an existing segment; with ``preview`` (where Preview redirects), the
    form as typed with the rule's count and first members."""
    with reading(request) as session:
        segment = _segment(session, segment_id)
        form = SegmentForm(
            name=segment.name, rule=segment.rule_text, description=segment.description
        )
    if preview:
        form = SegmentForm(name=name, rule=rule, description=description)
    return _form_page(request, form, segment_id=segment_id, preview=preview)


@post(router, "/segments/{segment_id}/edit", role="manager")
def update_segment(
    request: Request,
    caller: CallerDep,
    segment_id: int,
    name: Annotated[str, Form()] = "",
    rule: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    intent: Annotated[Literal["preview", "save"], Form()] = "save",
) -> Any:
    """Preview or save a changed name, rule or description (rules that use it follow)."""

    def work(session: Session) -> int:
        segment = _segment(session, segment_id)
        return service.update_segment(
            session,
            name=segment.name,
            new_name=name if name.strip() != segment.name else None,
            rule=rule,
            description=description,
            actor=acting_user(session, caller),
        ).id

    form = SegmentForm(name=name, rule=rule, description=description)
    return _save(request, form, segment_id=segment_id, intent=intent, work=work)


@post(router, "/segments/{segment_id}/delete", role="manager")
def delete_segment(request: Request, caller: CallerDep, segment_id: int) -> Any:
    """Delete a segment; refused (and said why) while another segment's rule uses it."""

    def work(session: Session) -> str:
        segment = _segment(session, segment_id)
        name = segment.name
        service.delete_segment(session, name=name, actor=acting_user(session, caller))
        return name

    try:
        name = writing(request, work)
    except USER_ERRORS as exc:
        return _list_page(request, error=ShownError.of(exc))
    return redirect(request, "/segments", f"Deleted segment “{name}”.")


def _form_page(
    request: Request,
    form: SegmentForm,
    *,
    segment_id: int | None,
    preview: bool = False,
    error: ShownError | None = None,
) -> Any:
    """The form; with ``preview``, the rule in words, its count and first members."""
    shown: dict[str, Any] | None = None
    if preview and error is None:
        try:
            with reading(request) as session:
                compiled = compile_where(session, form.rule)
                listing = list_accounts(session, where=[compiled.where], limit=PREVIEW_SIZE)
            shown = {"english": compiled.english, "text": compiled.text, "listing": listing}
        except USER_ERRORS as exc:
            error = ShownError.of(exc)
    return page(
        request,
        "segment_form.html",
        error.status if error else 200,
        form=form,
        segment_id=segment_id,
        action=f"/segments/{segment_id}/edit" if segment_id else "/segments/new",
        preview=shown,
        columns=MEMBER_COLUMNS,
        error=error,
    )
