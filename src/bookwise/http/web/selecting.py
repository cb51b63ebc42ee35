"""Which accounts a page lists and a bulk action acts on: ownership filters and a rule.

Pages carry their filters as strings in the query string and in hidden form fields; they mean
what they mean in the CLI and the API because all three build them with
``segments.selection.AccountFilter`` (and so with the assignment layer's ``OwnershipFilter``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from bookwise.assignments.predicates import account_ids
from bookwise.assignments.selection import AccountQuery, AccountRefs, Selection
from bookwise.errors import InvalidInput
from bookwise.segments.selection import AccountFilter, Wording

WEB_WORDING = Wording(
    who_alone="who (no-one, others, all) only applies to the accounts not assigned to a rep",
    missing="select at least one account (tick its box), or choose all matching accounts",
    both="tick accounts or choose all matching accounts, not both",
)


@dataclass(frozen=True)
class Filters:
    """The filters as a page or a form carries them (users still named by email)."""

    assigned_to: str = ""
    not_assigned_to: str = ""
    who: str = ""
    where: str = ""
    role: str = "csm"

    def conditions(
        self, session: Session, *, names: bool = False
    ) -> tuple[list[ColumnElement[bool]], str]:
        """SQL conditions on ``Account`` (all narrow) and the filter in words (people by
        email, as stored; with ``names``, by name, for a caption)."""
        return self.account_filter().conditions(session, names=names)

    def account_filter(self) -> AccountFilter:
        """The shared filter (``segments.selection``): one meaning in the CLI, API and web."""
        return AccountFilter(
            assigned_to=self.assigned_to or None,
            not_assigned_to=self.not_assigned_to or None,
            who=(self.who or None) if self.not_assigned_to else None,
            where=self.where if self.where.strip() else None,
            role=self.role or "csm",
            wording=WEB_WORDING,
        )

    def fields(self) -> list[tuple[str, str]]:
        """The filters as hidden form fields (empty ones left out)."""
        pairs = [
            ("assigned_to", self.assigned_to),
            ("not_assigned_to", self.not_assigned_to),
            ("who", self.who),
            ("where", self.where),
        ]
        return [(name, value) for name, value in pairs if value]


def selection_of(
    session: Session, *, scope: str, refs: list[str], filters: Filters
) -> tuple[Selection, str]:
    """The accounts ticked on the page, or every account the filters match; and in words."""
    if scope == "all":
        # Stored with people by email (unambiguous), shown with their names.
        where, described, shown = filters.account_filter().conditions_in_words(session)
        phrase = "all accounts" if shown == "all accounts" else f"all accounts ({shown})"
        return AccountQuery(ids=account_ids(where), description=described), phrase
    if scope != "selected":
        raise InvalidInput(f"scope must be 'selected' or 'all', not {scope!r}")
    chosen = [ref.strip() for ref in refs if ref.strip()]
    if not chosen:
        raise InvalidInput(WEB_WORDING.missing)
    unique = list(dict.fromkeys(chosen))
    plural = "s" if len(unique) != 1 else ""
    return AccountRefs(unique), f"{len(unique):,} selected account{plural}"
