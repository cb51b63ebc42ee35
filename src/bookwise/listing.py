"""Listings: a sortable, paged read of any table, shared by every domain's ``list_…``.

A listing names its sortable columns once (``Sorting``: name → column, a default, and the
column that breaks ties, usually the id), takes ``sort`` text as people type it (``-mrr``),
checks ``limit`` and ``offset`` against one cap, and returns a ``Page``: the rows, the total
and the window. The ORDER BY, LIMIT and OFFSET are SQL's, and the total is one ``COUNT``, so a
page costs two statements whatever the size of the table (see CONVENTIONS.md, "Listings").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from bookwise.db import is_sqlite
from bookwise.errors import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a listing: its items, the total number of matches (None when the caller
    chose not to count), and the window asked for."""

    items: list[Item]
    total: int | None
    limit: int
    offset: int


@dataclass(frozen=True)
class Sorting:
    """The columns a listing can be sorted by, its default order, and the tie-break."""

    columns: Mapping[str, Any]
    default: str
    tiebreak: Any

    def __post_init__(self) -> None:
        if self.default.lstrip("-+") not in self.columns:
            raise ValueError(f"default sort {self.default!r} is not one of the columns")

    def parse(self, sort: str | None) -> tuple[Any, bool]:
        """``"-mrr"`` → (mrr column, descending); unknown fields list the valid ones."""
        text = (sort or self.default).strip() or self.default
        descending = text.startswith("-")
        key = text.lstrip("-+")
        if key not in self.columns:
            raise InvalidInput(f"cannot sort by {key!r}; sortable: {', '.join(self.columns)}")
        return self.columns[key], descending

    def order_by(
        self, sort: str | None, *, sqlite: bool, key: Any = None, identity: Any = None
    ) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        """ORDER BY for ``sort``: the column with empty values last, then the tie-break.

        NULLS LAST is written only where it changes the database's own order (SQLite puts
        NULL first going up, PostgreSQL first going down) and only for nullable columns:
        spelled out where it changes nothing, it still stopped both planners from walking an
        index in order, so a 50-row page sorted every match. ``key`` and ``identity`` (a
        subquery's columns) order by those instead of the registry's own columns.
        """
        column, descending = self.parse(sort)
        needs_nulls_last = bool(getattr(column, "nullable", True)) and (sqlite != descending)
        by = column if key is None else key
        tie = self.tiebreak if identity is None else identity
        ordered = by.desc() if descending else by.asc()
        tiebreak = tie.desc() if descending else tie.asc()
        return (ordered.nulls_last() if needs_nulls_last else ordered), tiebreak


_LIMIT, _OFFSET = "page_limit", "page_offset"
T = TypeVar("T")


class BoundedCache(Generic[T]):
    """A thread-safe least-recently-used cache of at most ``size`` built values.

    For values that cost more to build than to look up and that never change once built:
    SQLAlchemy statements (immutable) and compiled rules. A value is built outside the
    lock; two threads missing the same key at once both build it, and one result stays.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value kept for ``key``, else ``build()`` kept (the oldest goes past the size)."""
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
                return found
        value = build()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()


# Page statements by (query key, sort, fence, dialect). Reusing the statement object also
# spares SQLAlchemy matching a new statement's columns to its cached compiled form. Kept
# with it: whether Core can run it (``_columns_only``, 0.1 ms to decide).
PAGE_STATEMENTS: BoundedCache[tuple[Select[*tuple[Any, ...]], bool]] = BoundedCache(256)


def _columns_only(statement: Select[*tuple[Any, ...]]) -> bool:
    """True when ``statement`` selects columns only, no ORM entity (Core can run it)."""
    return all(
        d["entity"] is None or d["expr"] is not d["entity"] for d in statement.column_descriptions
    )


def check_window(limit: int, offset: int, *, max_limit: int = MAX_PAGE_SIZE) -> None:
    """Refuse a page size outside 1…``max_limit`` or a negative offset."""
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")


def count_rows(session: Session, query: Select[*tuple[Any, ...]]) -> int:
    """How many rows ``query`` selects: one ``COUNT`` over it, its ORDER BY dropped."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return int(session.connection().scalar(counted) or 0)


def fetch_page(
    session: Session,
    query: Select[*tuple[Any, ...]] | Callable[[], Select[*tuple[Any, ...]]],
    *,
    sorting: Sorting,
    convert: Callable[[Row[Any]], Item],
    sort: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
    max_limit: int = MAX_PAGE_SIZE,
    total: int | Callable[[], int | None] | None = None,
    counted: bool = True,
    fence: bool = False,
    key: Hashable | None = None,
    count_along: Callable[[], Select[Any]] | None = None,
) -> Page[Item]:
    """A page of ``query``'s rows (a Select, or a function that builds it) in ``sort``
    order, each made an item by ``convert``, and the total: two statements.

    ``key`` names the query (equal keys: the same statement): the ordered page statement is
    then built once and kept in ``PAGE_STATEMENTS``, its window bound as parameters.

    ``total`` gives the total when the caller knows it (a number, or a function that reads
    it, e.g. from a counter); otherwise it is counted. With ``counted`` false there is no
    total at all (None), and neither ``total`` is called nor anything counted.
    ``fence``: see ``fenced``.

    ``count_along`` (with a ``total`` function and ``counted``) builds a ``COUNT`` that the
    page statement carries as a last column (an uncorrelated scalar subquery, run once): the
    rows and the total in one round trip, the rows' plan unchanged. ``convert`` then gets
    plain tuples without it; a page with no rows calls ``total`` instead.
    """
    check_window(limit, offset, max_limit=max_limit)
    sqlite = is_sqlite(session)
    given = query

    def selected() -> Select[*tuple[Any, ...]]:
        return given() if callable(given) else given

    def build() -> Select[*tuple[Any, ...]]:
        ordered = (
            fenced(selected(), sorting=sorting, sort=sort, sqlite=sqlite)
            if fence
            else selected().order_by(*sorting.order_by(sort, sqlite=sqlite))
        )
        return ordered.limit(bindparam(_LIMIT, type_=Integer)).offset(
            bindparam(_OFFSET, type_=Integer)
        )

    along = count_along is not None and counted and callable(total)

    def decided() -> tuple[Select[*tuple[Any, ...]], bool]:
        built = build()
        core = _columns_only(built)
        if along and core and count_along is not None:
            built = built.add_columns(count_along().scalar_subquery().label("page_total"))
        return built, core

    statement, core = (
        decided()
        if key is None
        else PAGE_STATEMENTS.get((key, sort, fence, sqlite, along), decided)
    )
    window = {_LIMIT: limit, _OFFSET: offset}
    # Core, not the ORM, for plain column rows: the ORM's execution machinery cost more than
    # the statement on a 50-row page (docs/performance.md, "The fixed cost of a page"). A
    # query that selects an entity (the operations log: Operation) needs the ORM to load it.
    rows: Sequence[Any] = (
        session.connection().execute(statement, window).all()
        if core
        else session.execute(statement, window).all()
    )
    if along and core:
        found = int(rows[0][-1]) if rows else total() if callable(total) else None
        rows = [row[:-1] for row in rows]
    elif not counted:
        found = None
    elif callable(total):
        found = total()
    elif total is not None:
        found = total
    else:
        found = count_rows(session, selected())
    return page_of([convert(row) for row in rows], total=found, limit=limit, offset=offset)


def fenced(
    query: Select[*tuple[Any, ...]], *, sorting: Sorting, sort: str | None, sqlite: bool
) -> Select[*tuple[Any, ...]]:
    """``query``'s rows selected in a subquery with ``OFFSET 0`` first, and only then sorted.

    A planner does not flatten such a subquery. Use it where the caller knows the matches are
    few: left to itself, PostgreSQL may walk a whole sort index and probe each row for the
    condition, betting that matches are dense (500 ms against 3 ms for sorting one CSM's
    451-account book at 100k accounts).
    """
    column, _ = sorting.parse(sort)
    inner = (
        query.add_columns(column.label("sort_key"), sorting.tiebreak.label("tie_key"))
        .offset(0)
        .subquery()
    )
    shown = [inner.c[c.key] for c in query.selected_columns if c.key is not None]
    return select(*shown).order_by(
        *sorting.order_by(sort, sqlite=sqlite, key=inner.c.sort_key, identity=inner.c.tie_key)
    )


def page_of(
    items: list[Item],
    *,
    total: int | None,
    limit: int,
    offset: int,
    model: type[Page[Item]] | None = None,
) -> Page[Item]:
    """A Page of items already typed, built without validating them again (a page holds up
    to a thousand rows that came typed from the database); ``model`` is the listing's own
    ``Page[…]`` class when it has one."""
    return (model or Page).model_construct(items=items, total=total, limit=limit, offset=offset)
