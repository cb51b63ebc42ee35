"""Account assignment: every CSM with their book; a rep's accounts and the accounts NOT theirs.

Natero's page, done better: the not-assigned list has the tabs No-one / Other CSMs / Advanced
filter (a rule), rows can be ticked or "all N matching" chosen, and every Assign, Unassign or
Transfer goes through a preview with the exact counts before it is applied, then can be undone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session

from bookwise.assignments.listing import AccountPage
from bookwise.assignments.overview import csm_overview
from bookwise.http.context import CallerDep, reading
from bookwise.http.routing import get, post
from bookwise.http.web import bulk
from bookwise.http.web.bulk import BulkForm
from bookwise.http.web.columns import COLUMNS
from bookwise.http.web.common import (
    USER_ERRORS,
    PageNumber,
    Pager,
    ShownError,
    SubPageNumber,
    href,
    page_number,
)
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

    def link(self, **changes: Any) -> str:
        """This page with some values changed."""
        view = replace(self, **changes)
        return href(
            "/assignment",
            {
                "rep": view.rep,
                "who": view.who if view.who != "no-one" else None,
                "where": view.where,
                "page": view.page if view.page > 1 else None,
                "book_page": view.book_page if view.book_page > 1 else None,
            },
        )

    def tab(self, who: str) -> str:
        """The link of a tab: the rule stays with the Advanced filter tab only."""
        return self.link(who=who, page=1, where=self.where if who == "all" else "")

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
        )


@get(router, "/assignment", role="viewer")
def assignment(
    request: Request,
    rep: str = "",
    who: str = "no-one",
    where: str = "",
    number: PageNumber = 1,
    book_page: SubPageNumber = 1,
) -> Any:
    """The CSM overview; with ``rep``, their accounts and the accounts not theirs."""
    view = AssignmentView(rep=rep.strip(), who=who, where=where, page=number, book_page=book_page)
    return render(request, view)


@dataclass
class RepLists:
    """What the page shows about the chosen rep: who, their book, the accounts not theirs."""

    rep: dict[str, Any] | None = None
    book: AccountPage | None = None
    book_pager: Pager = field(default_factory=Pager.of)
    others: AccountPage | None = None
    others_pager: Pager = field(default_factory=Pager.of)
    described: str = ""
    rule_error: ShownError | None = None


def render(
    request: Request,
    view: AssignmentView,
    *,
    error: ShownError | None = None,
    checked: Collection[str] = (),
) -> Any:
    """The page for ``view``; ``error`` (from a refused action) is shown at the top."""
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
    failed = error or lists.rule_error
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
        book_link=lambda number: view.link(book_page=number),
        others=lists.others,
        others_pager=lists.others_pager,
        others_link=lambda number: view.link(page=number),
        described=lists.described,
        tabs=TABS,
        columns=ASSIGNMENT_COLUMNS,
        error=error,
        rule_error=lists.rule_error,
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
    lists.book, _ = list_selected(session, mine, limit=pager.size, offset=pager.offset)
    lists.book_pager = pager.showing(len(lists.book.items), lists.book.total)
    try:
        lists.others, lists.described = _not_assigned(session, view, user)
    except USER_ERRORS as exc:
        lists.rule_error = ShownError.of(exc)
    else:
        lists.others_pager = Pager.of(view.page).showing(
            len(lists.others.items), lists.others.total
        )
    return lists


def _not_assigned(session: Session, view: AssignmentView, user: User) -> tuple[AccountPage, str]:
    """A page of the accounts not assigned to ``user``, and what selected them in words.

    Without a rule the total comes from the counters (no scan of every account); with one
    it is counted.
    """
    wanted = Filters(not_assigned_to=user.email, who=view.who, where=view.where)
    pager = Pager.of(view.page)
    return list_selected(session, wanted.account_filter(), limit=pager.size, offset=pager.offset)


@post(router, "/assignment/preview", role="manager")
def preview(request: Request, caller: CallerDep, form: Annotated[BulkForm, Form()]) -> Any:
    """Preview Assign, Unassign or Transfer (a dry run): counts, per-id outcomes, sample."""
    view = AssignmentView.from_url(form.back_path())
    return bulk.preview(
        request,
        caller,
        form,
        refused=lambda error: render(request, view, error=error, checked=form.refs),
    )
