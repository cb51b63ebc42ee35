"""What several pages share: links that keep the query string, paging, and shown errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query
from sqlalchemy.orm import Session

from bookwise.assignments.overview import csm_overview
from bookwise.errors import BookwiseError, Conflict, InvalidInput, InvalidRule, NotFound, Refused
from bookwise.errors import RequestTooLarge as TooLarge

PAGE_SIZE = 50
MAX_PAGE_NUMBER = 1_000_000
"""The last page number a page accepts: past it, a 422 page (as the API refuses an offset
past 2^31 - 1), not an offset too large for the database."""
PageNumber = Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE_NUMBER)]
"""A page's ``?page=`` number (1-based)."""
SubPageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER)]
"""The page number of a second listing on a page (``book_page``, ``history_page``, …)."""
# Errors a person can act on: shown in the page they came from. Anything else (not signed
# in, forbidden, a bug) goes to the app's error handlers.
USER_ERRORS: tuple[type[BookwiseError], ...] = (InvalidInput, NotFound, Conflict, Refused, TooLarge)

Param = str | int | Sequence[str] | None


def href(path: str, params: Mapping[str, Param]) -> str:
    """``path`` with the non-empty ``params`` as its query string (lists repeat the key)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, str(item)) for item in value)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def page_number(text: str | None) -> int:
    """The page number a link's query holds (a form's ``back``); anything else is page 1."""
    value = (text or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= len(str(MAX_PAGE_NUMBER)):
        number = int(value)
        if 1 <= number <= MAX_PAGE_NUMBER:
            return number
    return 1


def local_path(target: str | None, default: str) -> str:
    """Only a path on this site (never an open redirect to another one), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    # Browsers read "\" as "/" and drop tabs and newlines: "/\evil.example" is another site.
    if any(char == "\\" or ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    return target


@dataclass(frozen=True)
class SortedLinks:
    """The page and header links of a sortable listing at ``path`` (by name unless told)."""

    path: str
    sort: str = "name"

    def page(self, number: int) -> str:
        """Page ``number`` in the current order."""
        return href(self.path, {"sort": self.sort if self.sort != "name" else None, "page": number})

    def sorted_by(self, key: str) -> str:
        """The first page sorted by ``key`` (``-key``: descending)."""
        return href(self.path, {"sort": key if key != "name" else None})


@dataclass(frozen=True)
class Pager:
    """One page of a listing: which page, how many per page, and the total if known."""

    page: int
    size: int
    total: int | None
    shown: int
    more: bool = False

    @staticmethod
    def of(page: int | None = None, size: int = PAGE_SIZE) -> Pager:
        """The pager for a requested (1-based) page number; bad numbers mean page 1."""
        return Pager(page=max(1, page or 1), size=size, total=None, shown=0)

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.size

    def showing(self, shown: int, total: int | None, *, more: bool = False) -> Pager:
        """The same page once its rows are known (``more``: rows follow, total unknown)."""
        return Pager(page=self.page, size=self.size, total=total, shown=shown, more=more)

    @property
    def pages(self) -> int | None:
        """Number of pages (None when the total is unknown)."""
        if self.total is None:
            return None
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        """True unless this is the first page."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """True when rows follow this page."""
        if self.total is None:
            return self.more
        return self.offset + self.shown < self.total

    @property
    def first_row(self) -> int:
        """1-based number of the first row shown (0 when none)."""
        return self.offset + 1 if self.shown else 0

    @property
    def last_row(self) -> int:
        """1-based number of the last row shown."""
        return self.offset + self.shown


@dataclass(frozen=True)
class ShownError:
    """An error as a page shows it: the message, and the rule with a caret under the fault."""

    message: str
    caret: str = ""
    status: int = 422

    @staticmethod
    def of(exc: BookwiseError) -> ShownError:
        """The error of ``exc``; a rule error's caret lines are kept apart for a <pre>."""
        if isinstance(exc, InvalidRule):
            first, _, rest = exc.message.partition("\n")
            return ShownError(message=first, caret=rest, status=exc.status_code)
        return ShownError(message=exc.message, status=exc.status_code)


# Only the keys that need more than their own words ("not_found" reads "not found").
OUTCOME_LABELS = {
    "already_assigned": "already assigned (no change)",
    "not_assigned": "not assigned to that CSM (no change)",
    "refused_inactive": "refused: the user is inactive",
    "refused_no_seat": "refused: the user has no CSM seat",
    "refused_inherits": "refused: follows its parent's CSMs (inherit)",
    "opened": "owners added",
    "closed": "owners removed",
}


def outcome_label(outcome: str) -> str:
    """A per-id outcome or count key in words."""
    return OUTCOME_LABELS.get(outcome, outcome.replace("_", " "))


def csm_choices(session: Session) -> list[dict[str, Any]]:
    """The users a page offers as CSMs: active, with a CSM seat (email and name to show, and
    their current book: accounts and MRR, from the counters), by name."""
    return [
        {
            "email": row.email,
            "name": row.name or row.email,
            "accounts": row.accounts,
            "mrr": row.mrr,
        }
        for row in csm_overview(session).items
    ]
