"""Account assignment: every CSM with their book; a rep's accounts and the accounts NOT theirs.

Natero's page, done better: the not-assigned list has the tabs No-one / Other CSMs / Advanced
filter (a rule), rows can be ticked or "all N matching" chosen, and every Assign, Take over,
Unassign or Transfer goes through a preview with the exact counts before it is applied, then
can be undone.

Every link that changes one list (a tab, a filter, a page, a column header) lands on that list
(``#book``, ``#others``), and a refused action is shown beside the control that made it, with
the ticks kept: the rep's own book can be long, and the user must not lose their place.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from bookwise.assignments.listing import AccountPage, count_accounts
from bookwise.assignments.overview import csm_overview
from bookwise.http.context import CallerDep, reading
from bookwise.http.routing import get, post
from bookwise.http.web import bulk
from bookwise.http.web.bulk import BulkForm
from bookwise.http.web.columns import COLUMNS, owner_names
from bookwise.http.web.common import (
    USER_ERRORS,
    PageNumber,
    Pager,
    ShownError,
    SubPageNumber,
    href,
    page_number,
)
from bookwise.http.web.messages import redirect
from bookwise.http.web.selecting import Filters
from bookwise.http.web.templating import page
from bookwise.models import User
from bookwise.segments.selection import list_selected
from bookwise.users.service import get_user

router = APIRouter(include_in_schema=False)

TABS = (("no-one", "No-one"), ("others", "Other CSMs"), ("all", "Advanced filter"))
ASSIGNMENT_COLUMNS = [
    COLUMNS[key] for key in ("external_id", "tier", "mrr", "health_score", "csms")
]


@dataclass(frozen=True)
class AssignmentView:
    """What the page shows, all of it in the query string."""

    rep: str = ""
    who: str = "no-one"
    where: str = ""
    page: int = 1
    book_page: int = 1
    sort: str = "name"
    book_sort: str = "name"

    def link(self, section: str = "", **changes: Any) -> str:
        """This page with some values changed, landing on ``section`` (``book``, ``others``)."""
        view = replace(self, **changes)
        path = href(
            "/assignment",
            {
                "rep": view.rep,
                "who": view.who if view.who != "no-one" else None,
                "where": view.where,
                "page": view.page if view.page > 1 else None,
                "book_page": view.book_page if view.book_page > 1 else None,
                "sort": view.sort if view.sort != "name" else None,
                "book_sort": view.book_sort if view.book_sort != "name" else None,
            },
        )
        return f"{path}#{section}" if section else path

    def tab(self, who: str) -> str:
        """The link of a tab: the rule stays with the Advanced filter tab only."""
        return self.link("others", who=who, page=1, where=self.where if who == "all" else "")

    def others_page(self, number: int) -> str:
        """A page of the accounts not the rep's."""
        return self.link("others", page=number)

    def book_page_link(self, number: int) -> str:
        """A page of the rep's book."""
        return self.link("book", book_page=number)

    def others_sorted(self, key: str) -> str:
        """The accounts not the rep's, sorted by ``key``, from the first page."""
        return self.link("others", sort=key, page=1)

    def book_sorted(self, key: str) -> str:
        """The rep's book sorted by ``key``, from the first page."""
        return self.link("book", book_sort=key, book_page=1)

    @staticmethod
    def from_url(url: str) -> AssignmentView:
        """The view a page link (a form's ``back``) describes."""
        query = {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}

        return AssignmentView(
            rep=query.get("rep", ""),
            who=query.get("who", "no-one"),
            where=query.get("where", ""),
            page=page_number(query.get("page")),
            book_page=page_number(query.get("book_page")),
            sort=query.get("sort", "name") or "name",
            book_sort=query.get("book_sort", "name") or "name",
        )


@get(router, "/assignment", role="viewer")
def assignment(
    request: Request,
    rep: str = "",
    who: str = "no-one",
    where: str = "",
    number: PageNumber = 1,
    book_page: SubPageNumber = 1,
    sort: str = "name",
    book_sort: str = "name",
    ticked: Annotated[list[str] | None, Query()] = None,
) -> Any:
    """The CSM overview; with ``rep``, their accounts and the accounts not theirs.

    ``ticked``: the rows ticked before a filter or tab change (app.js sends them), ticked again.
    """
    view = AssignmentView(
        rep=rep.strip(),
        who=who,
        where=where,
        page=number,
        book_page=book_page,
        sort=sort.strip() or "name",
        book_sort=book_sort.strip() or "name",
    )
    return render(request, view, checked=ticked or ())


@get(router, "/assignment/count", role="viewer")
def count(request: Request, rep: str = "", who: str = "all", where: str = "") -> Any:
    """How many accounts the "not assigned" list shows for this rule: the live rule check
    under the Advanced filter counts with the tab's own filter, so the two numbers agree."""
    with reading(request) as session:
        try:
            wanted = Filters(not_assigned_to=rep.strip(), who=who, where=where)
            conditions, described = wanted.conditions(session, names=True)
            matches = count_accounts(session, where=conditions)
        except USER_ERRORS as exc:
            shown = ShownError.of(exc)
            return JSONResponse({"detail": shown.message}, status_code=shown.status)
    return {"matches": matches, "described": described}


@dataclass
class RepLists:
    """What the page shows about the chosen rep: who, their book, the accounts not theirs."""

    rep: dict[str, Any] | None = None
    book: AccountPage | None = None
    book_pager: Pager = field(default_factory=Pager.of)
    book_error: ShownError | None = None
    others: AccountPage | None = None
    others_pager: Pager = field(default_factory=Pager.of)
    described: str = ""
    rule_error: ShownError | None = None
    names: dict[str, str] = field(default_factory=dict)


def render(
    request: Request,
    view: AssignmentView,
    *,
    error: ShownError | None = None,
    section: str = "",
    checked: Collection[str] = (),
) -> Any:
    """The page for ``view``; ``error`` (from a refused action) is shown beside the controls
    of ``section`` (``book``, ``others``), or at the top without one."""
    lists = RepLists()
    with reading(request) as session:
        overview = csm_overview(session)
        if view.rep:
            try:
                user = get_user(session, view.rep)
            except USER_ERRORS as exc:
                error = error or ShownError.of(exc)
            else:
                lists = _rep_lists(session, view, user)
    rep = lists.rep
    failed = error or lists.rule_error or lists.book_error
    if rep is None or section not in ("book", "others"):
        section = ""
    land = section or ("others" if lists.rule_error else "")
    return page(
        request,
        "assignment.html",
        failed.status if failed else 200,
        view=view,
        overview=overview,
        rep=rep,
        targets=[row for row in overview.items if rep is None or row.email != rep["email"]],
        book=lists.book,
        book_pager=lists.book_pager,
        book_error=lists.book_error,
        others=lists.others,
        others_pager=lists.others_pager,
        described=lists.described,
        tabs=TABS,
        columns=ASSIGNMENT_COLUMNS,
        error=None if section else error,
        book_action_error=error if section == "book" else None,
        others_action_error=error if section == "others" else None,
        land=land,
        count_url=href("/assignment/count", {"rep": rep["email"], "who": "all"}) if rep else "",
        rule_error=lists.rule_error,
        names=lists.names,
        checked=set(checked),
    )


def _rep_lists(session: Session, view: AssignmentView, user: User) -> RepLists:
    """The rep's book (a page) and the accounts not theirs (a page of the chosen tab)."""
    lists = RepLists(
        rep={
            "email": user.email,
            "name": user.name or user.email,
            "active": user.active,
            "csm_seat": user.csm_seat,
        }
    )
    pager = Pager.of(view.book_page)
    mine = Filters(assigned_to=user.email).account_filter()
    try:
        lists.book, _ = list_selected(
            session, mine, sort=view.book_sort, limit=pager.size, offset=pager.offset
        )
    except USER_ERRORS as exc:  # an unknown sort key
        lists.book_error = ShownError.of(exc)
    else:
        lists.book_pager = pager.showing(len(lists.book.items), lists.book.total)
    try:
        lists.others, lists.described = _not_assigned(session, view, user)
    except USER_ERRORS as exc:
        lists.rule_error = ShownError.of(exc)
    else:
        lists.others_pager = Pager.of(view.page).showing(
            len(lists.others.items), lists.others.total
        )
    lists.names = owner_names(session, lists.book, lists.others)
    return lists


def _not_assigned(session: Session, view: AssignmentView, user: User) -> tuple[AccountPage, str]:
    """A page of the accounts not assigned to ``user``, and what selected them in words.

    Without a rule the total comes from the counters (no scan of every account); with one
    it is counted.
    """
    wanted = Filters(not_assigned_to=user.email, who=view.who, where=view.where)
    pager = Pager.of(view.page)
    return list_selected(
        session, wanted.account_filter(), sort=view.sort, limit=pager.size, offset=pager.offset
    )


@post(router, "/assignment/preview", role="manager")
def ask_preview(form: Annotated[BulkForm, Form()], request: Request) -> Any:
    """Assign, Take over, Unassign or Transfer: a redirect to the preview's own address
    (post/redirect/get: a refresh recomputes the preview, and it can be shared)."""
    return redirect(request, form.preview_href())


@get(router, "/assignment/preview", role="manager")
def preview(request: Request, caller: CallerDep, form: Annotated[BulkForm, Query()]) -> Any:
    """Preview Assign, Take over, Unassign or Transfer (a dry run): counts, per-id outcomes,
    a sample; refused, the page again with the message beside the list's buttons."""
    view = AssignmentView.from_url(form.back_path())
    section = "others" if form.not_assigned_to else "book"
    return bulk.preview(
        request,
        caller,
        form,
        refused=lambda error: render(
            request, view, error=error, section=section, checked=form.refs
        ),
    )
