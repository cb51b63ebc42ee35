"""Which accounts a command or request acts on: ids named one by one, or filters.

The CLI (``--assigned-to``, ``--where``, …) and the API (``assigned_to``, ``filter``, …) build
their selections here, so that a filter means the same thing in both. Only the wording of the
messages differs: each caller names its own options (``Wording``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from bookwise.assignments import listing
from bookwise.assignments.filters import KnownCounts, OwnershipFilter, read_filter_users
from bookwise.assignments.listing import AccountPage
from bookwise.assignments.predicates import WHO_CHOICES, account_ids
from bookwise.assignments.selection import AccountQuery, AccountRefs, Selection
from bookwise.errors import InvalidInput
from bookwise.listing import DEFAULT_PAGE_SIZE
from bookwise.segments.rules import RuleInput, compile_where, segment_rule
from bookwise.segments.service import get_segment
from bookwise.users.service import read_users


@dataclass(frozen=True)
class Wording:
    """How the caller spells its filters in error messages."""

    who_alone: str = "--who only applies together with --not-assigned-to EMAIL"
    missing: str = (
        "name accounts or a filter (e.g. REF..., --where RULE, --segment NAME or "
        "--not-assigned-to EMAIL --who no-one)"
    )
    both: str = "name accounts or a filter, not both"


CLI_WORDING = Wording()


@dataclass(frozen=True)
class AccountFilter:
    """The filters as the caller gave them (users still named by email, the rule as given)."""

    assigned_to: str | None = None
    not_assigned_to: str | None = None
    who: str | None = None
    unassigned: bool = False
    role: str = "csm"
    where: RuleInput | None = None
    segment: str | None = None
    wording: Wording = field(default=CLI_WORDING, compare=False)

    def given(self) -> bool:
        """True when at least one filter narrows the accounts."""
        return bool(
            self.assigned_to
            or self.not_assigned_to
            or self.unassigned
            or self.where is not None
            or self.segment is not None
        )

    def conditions(
        self, session: Session, ownership: OwnershipFilter | None = None, *, names: bool = False
    ) -> tuple[list[ColumnElement[bool]], str]:
        """Every filter as SQL conditions on ``Account`` (all narrow), and the filter in words
        (``ownership``: this filter's ``build``, when the caller has it already); people by
        email, as stored on operations, or with ``names`` by name, for a page's caption."""
        where, stored, shown = self.conditions_in_words(session, ownership)
        return where, shown if names else stored

    def conditions_in_words(
        self, session: Session, ownership: OwnershipFilter | None = None
    ) -> tuple[list[ColumnElement[bool]], str, str]:
        """``conditions`` with the filter in both words: as stored (people by email) and as
        shown (people by name)."""
        if ownership is None:
            ownership = self.build(session)
        where = ownership.conditions()
        words, shown = self._words(session, ownership, where)
        return where, ", ".join(words) or "all accounts", ", ".join(shown) or "all accounts"

    def _words(
        self, session: Session, ownership: OwnershipFilter, where: list[ColumnElement[bool]]
    ) -> tuple[list[str], list[str]]:
        """Append the rule's and the segment's conditions to ``where``; the words of all."""
        stored, shown = ownership.describe(), ownership.describe(names=True)
        words = [stored] if stored != "all accounts" else []
        named = [shown] if shown != "all accounts" else []
        if self.where is not None:
            compiled = compile_where(session, self.where)
            where.append(compiled.where)
            words.append(f"rule: {compiled.text}")
            named.append(f"rule: {compiled.text}")
        if self.segment is not None:
            # Looked up first: an unknown name is NotFound (with a suggestion), not a bad rule,
            # and the operation records the segment under its own spelling.
            name = get_segment(session, self.segment).name
            where.append(segment_rule(session, name).where)
            words.append(f"segment: {name}")
            named.append(f"segment: {name}")
        return words, named

    def counted(self) -> bool:
        """True when the total comes from the counters: only ownership filters are given (a
        rule or a segment is counted by the listing instead)."""
        return self.where is None and self.segment is None

    def counted_total(
        self,
        session: Session,
        ownership: OwnershipFilter | None = None,
        known: KnownCounts | None = None,
    ) -> int | None:
        """The number of accounts selected, from the counters (``known``: read already),
        when ``counted``; else None."""
        if not self.counted():
            return None
        ownership = self.build(session) if ownership is None else ownership
        return ownership.counted_total(session, known)

    def build(self, session: Session) -> OwnershipFilter:
        """The OwnershipFilter, with each email resolved to its user (unknown → NotFound)."""
        return self.read(session, with_counts=False)[0]

    def read(
        self, session: Session, *, with_counts: bool
    ) -> tuple[OwnershipFilter, KnownCounts | None]:
        """``build``, and with ``with_counts`` (and a user named) the counters its total
        needs, read in the same statement as the users."""
        if self.who is not None and self.not_assigned_to is None:
            raise InvalidInput(self.wording.who_alone)
        who = str(self.who) if self.who is not None else "all"
        if who not in WHO_CHOICES:
            raise InvalidInput(f"who must be one of {', '.join(WHO_CHOICES)}, not {self.who!r}")
        # Read, not loaded: one Core statement for both users (``read_users``), with the
        # counters when asked; the filter only reads them (docs/performance.md, "The fixed
        # cost of a page").
        named = [ref for ref in (self.assigned_to, self.not_assigned_to) if ref]
        known = None
        if named and with_counts:
            found, known = read_filter_users(session, named, role=self.role)
        else:
            found = read_users(session, named) if named else []
        users = iter(found)
        ownership = OwnershipFilter(
            assigned_to=next(users) if self.assigned_to else None,
            not_assigned_to=next(users) if self.not_assigned_to else None,
            who=who,
            unassigned=self.unassigned,
            role=self.role,
        )
        return ownership, known


def list_selected(
    session: Session,
    filters: AccountFilter,
    *,
    sort: str = "name",
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> tuple[AccountPage, str]:
    """A page of the accounts ``filters`` select and the filters in words.

    The total comes from the counters when only ownership filters are given: "no-one" and
    "other CSMs" would otherwise count hundreds of thousands of accounts for every page.
    """
    # Each named user looked up once, with the counters the total needs.
    ownership, known = filters.read(session, with_counts=filters.counted())
    where, described = filters.conditions(session, ownership)
    counted = filters.counted_total(session, ownership, known)
    page = listing.list_accounts(
        session,
        where=where,
        sort=sort,
        limit=limit,
        offset=offset,
        with_total=counted is None,
        expected=counted,
        role=filters.role,
    )
    if counted is not None:
        page = page.model_copy(update={"total": counted})
    return page, described


@overload
def build_selection(
    session: Session, refs: Sequence[str | int], filters: AccountFilter, *, required: Literal[True]
) -> Selection: ...
@overload
def build_selection(
    session: Session, refs: Sequence[str | int], filters: AccountFilter, *, required: bool
) -> Selection | None: ...
def build_selection(
    session: Session, refs: Sequence[str | int], filters: AccountFilter, *, required: bool
) -> Selection | None:
    """Refs → AccountRefs; filters → AccountQuery; both is an error; neither is None."""
    if refs and filters.given():
        raise InvalidInput(filters.wording.both)
    if refs:
        return AccountRefs(refs)
    if filters.given():
        where, described = filters.conditions(session)
        return AccountQuery(ids=account_ids(where), description=described)
    if filters.who is not None:
        raise InvalidInput(filters.wording.who_alone)
    if required:
        raise InvalidInput(filters.wording.missing)
    return None
