"""The assignment screen's ownership filters: assigned to X, not assigned to X (who), no-one.

An ``OwnershipFilter`` becomes SQL conditions on ``Account`` (``assignments.predicates``) and
knows, for the shapes the counters can answer, how many accounts it selects without a scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, String, and_, bindparam, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from bookwise.assignments.overview import (
    TeamTotals,
    book_accounts,
    book_totals,
    not_assigned_total,
    team_columns,
    team_of,
    team_totals,
)
from bookwise.assignments.predicates import (
    WHO_CHOICES,
    Who,
    owned_by,
    owned_by_anyone_active,
)
from bookwise.errors import InvalidInput
from bookwise.models import User
from bookwise.users.service import PEOPLE_NAMED, people_params, pick_people, reading_copy


@lru_cache(maxsize=1024)
def _ownership_conditions(
    assigned_to: int | None,
    not_assigned_to: tuple[int, bool] | None,
    who: Who,
    unassigned: bool,
    role: str,
) -> tuple[ColumnElement[bool], ...]:
    # Built once per filter (users by id): the same condition objects let a listing keep its
    # built statements (``bookwise.listing.PAGE_STATEMENTS``), and SQL expressions never
    # change once built. Bounded: the least recently used filter goes.
    found: list[ColumnElement[bool]] = []
    if assigned_to is not None:
        found.append(owned_by(assigned_to, role))
    if unassigned:
        found.append(~owned_by_anyone_active(role))
    if not_assigned_to is not None:
        user_id, active = not_assigned_to
        mine = owned_by(user_id, role)
        anyone = owned_by_anyone_active(role)
        if who == "no-one":
            found.append(~anyone)
        elif who == "others":
            found.append(and_(anyone, ~mine))
        elif active:
            found.append(~mine)
        else:
            found.append(or_(~anyone, and_(anyone, ~mine)))
    return tuple(found)


@dataclass(frozen=True)
class KnownCounts:
    """Counters read together with a filter's users: each one's book in the filter's role
    (by user id) and the team's totals."""

    books: Mapping[int, int]
    team: TeamTotals


# The users a filter names and the counters its total needs, in one statement: a page that
# the counters can count then reads nothing else before its rows (docs/performance.md,
# "The fixed cost of a page"). Kept: the refs and role are parameters.
_COUNTED_ROLE: BindParameter[str] = bindparam("counted_role", type_=String)
_PEOPLE_COUNTED = PEOPLE_NAMED.add_columns(
    book_accounts(User.id, _COUNTED_ROLE).label("book"),
    *(column.label(f"team_{n}") for n, column in enumerate(team_columns(_COUNTED_ROLE))),
)


def read_filter_users(
    session: Session, refs: Sequence[str], *, role: str
) -> tuple[list[User], KnownCounts]:
    """The users ``refs`` name, as ``users.service.read_users`` reads them, and the counters
    a filter on them counts its total with: one statement."""
    rows = (
        session.connection()
        .execute(_PEOPLE_COUNTED, {**people_params(refs), "counted_role": role})
        .all()
    )
    picked = pick_people(refs, rows)
    books = {row.id: int(row.book or 0) for row in picked}
    team = team_of(*(rows[0][-3:])) if rows else team_totals(session, role=role)
    return [reading_copy(row) for row in picked], KnownCounts(books, team)


@dataclass(frozen=True)
class OwnershipFilter:
    """The assignment screen's filters; all of them narrow, none widens."""

    assigned_to: User | None = None
    not_assigned_to: User | None = None
    who: Who = "all"
    unassigned: bool = False
    role: str = "csm"

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on ``Account`` for this filter (the same objects for the same
        filter: ``_ownership_conditions``)."""
        if self.who not in WHO_CHOICES:
            raise InvalidInput(f"who must be one of {', '.join(WHO_CHOICES)}, not {self.who!r}")
        other = self.not_assigned_to
        return list(
            _ownership_conditions(
                self.assigned_to.id if self.assigned_to is not None else None,
                (other.id, other.active) if other is not None else None,
                self.who,
                self.unassigned,
                self.role,
            )
        )

    def counted_total(self, session: Session, known: KnownCounts | None = None) -> int | None:
        """How many accounts this filter selects, read from the counters (no scan), or None
        when the counters cannot say (filters combined, an inactive user's "others").
        ``known``: the counters, read already with the filter's users (``read_filter_users``)."""

        def book(user: User) -> int:
            if known is not None:
                return known.books.get(user.id, 0)
            return book_totals(session, user_id=user.id, role=self.role)[0]

        def team() -> TeamTotals:
            return known.team if known is not None else team_totals(session, role=self.role)

        if self.assigned_to is not None:
            if self.not_assigned_to is not None or self.unassigned:
                return None
            return book(self.assigned_to)
        if self.unassigned:
            if self.not_assigned_to is not None and self.who != "no-one":
                return None
            return team().unassigned_accounts
        if self.not_assigned_to is not None:
            book_size = book(self.not_assigned_to)
            return not_assigned_total(
                team(),
                user=self.not_assigned_to,
                who=self.who,
                book=book_size,
                role=self.role,
            )
        return None

    def describe(self, *, names: bool = False) -> str:
        """The filter in words. As stored on operations that used it, people are named by
        email (unique, unlike names, and what the filter was given); ``names`` is for a
        page's caption, where people are named by name."""

        def person(user: User) -> str:
            return (user.name or user.email) if names else user.email

        parts = []
        if self.assigned_to is not None:
            parts.append(f"assigned to {person(self.assigned_to)}")
        if self.unassigned:
            parts.append("assigned to no-one")
        if self.not_assigned_to is not None:
            parts.append(f"not assigned to {person(self.not_assigned_to)} (who: {self.who})")
        if self.role != "csm":
            parts.append(f"role {self.role}")
        return ", ".join(parts) or "all accounts"
