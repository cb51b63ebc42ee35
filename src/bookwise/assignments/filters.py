"""The assignment screen's ownership filters: assigned to X, not assigned to X (who), no-one.

An ``OwnershipFilter`` becomes SQL conditions on ``Account`` (``assignments.predicates``) and
knows, for the shapes the counters can answer, how many accounts it selects without a scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import Session

from bookwise.assignments.overview import book_totals, not_assigned_total, team_totals
from bookwise.assignments.predicates import (
    WHO_CHOICES,
    Who,
    owned_by,
    owned_by_anyone_active,
)
from bookwise.errors import InvalidInput
from bookwise.models import User


@dataclass(frozen=True)
class OwnershipFilter:
    """The assignment screen's filters; all of them narrow, none widens."""

    assigned_to: User | None = None
    not_assigned_to: User | None = None
    who: Who = "all"
    unassigned: bool = False
    role: str = "csm"

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on ``Account`` for this filter."""
        found: list[ColumnElement[bool]] = []
        if self.who not in WHO_CHOICES:
            raise InvalidInput(f"who must be one of {', '.join(WHO_CHOICES)}, not {self.who!r}")
        if self.assigned_to is not None:
            found.append(owned_by(self.assigned_to.id, self.role))
        if self.unassigned:
            found.append(~owned_by_anyone_active(self.role))
        if self.not_assigned_to is not None:
            mine = owned_by(self.not_assigned_to.id, self.role)
            anyone = owned_by_anyone_active(self.role)
            if self.who == "no-one":
                found.append(~anyone)
            elif self.who == "others":
                found.append(and_(anyone, ~mine))
            elif self.not_assigned_to.active:
                found.append(~mine)
            else:
                found.append(or_(~anyone, and_(anyone, ~mine)))
        return found

    def counted_total(self, session: Session) -> int | None:
        """How many accounts this filter selects, read from the counters (no scan), or None
        when the counters cannot say (filters combined, an inactive user's "others")."""
        if self.assigned_to is not None:
            if self.not_assigned_to is not None or self.unassigned:
                return None
            return book_totals(session, user_id=self.assigned_to.id, role=self.role)[0]
        if self.unassigned:
            if self.not_assigned_to is not None and self.who != "no-one":
                return None
            return team_totals(session, role=self.role).unassigned_accounts
        if self.not_assigned_to is not None:
            book = book_totals(session, user_id=self.not_assigned_to.id, role=self.role)[0]
            return not_assigned_total(
                team_totals(session, role=self.role),
                user=self.not_assigned_to,
                who=self.who,
                book=book,
                role=self.role,
            )
        return None

    def describe(self) -> str:
        """The filter in words, stored on operations that used it."""
        parts = []
        if self.assigned_to is not None:
            parts.append(f"assigned to {self.assigned_to.email}")
        if self.unassigned:
            parts.append("assigned to no-one")
        if self.not_assigned_to is not None:
            parts.append(f"not assigned to {self.not_assigned_to.email} (who: {self.who})")
        if self.role != "csm":
            parts.append(f"role {self.role}")
        return ", ".join(parts) or "all accounts"
