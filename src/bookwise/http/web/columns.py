"""The account columns listings can show, in one place (labels, alignment, sorting)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bookwise.assignments.listing import SORT_COLUMNS, AccountPage
from bookwise.users.service import get_users


@dataclass(frozen=True)
class Column:
    """One account column: its key in ``AccountRow``, header, alignment, and sort key."""

    key: str
    label: str
    numeric: bool = False

    @property
    def sortable(self) -> bool:
        """True when the listing services can sort by this column."""
        return self.key in SORT_COLUMNS


# "name" is always shown (it links to the account); the others can be chosen.
COLUMNS: dict[str, Column] = {
    column.key: column
    for column in (
        Column("external_id", "External id"),
        Column("tier", "Tier", numeric=True),
        Column("lifecycle_stage", "Stage"),
        Column("mrr", "MRR", numeric=True),
        Column("health_score", "Health", numeric=True),
        Column("nps", "NPS", numeric=True),
        Column("csm_rating", "CSM rating", numeric=True),
        Column("region", "Region"),
        Column("renewal_date", "Renewal"),
        Column("created_at", "Created"),
        Column("depth", "Depth", numeric=True),
        Column("inherit_policy", "Policy"),
        Column("csms", "CSMs"),
    )
}
DEFAULT_COLUMNS = ("external_id", "tier", "lifecycle_stage", "mrr", "health_score", "csms")


def chosen_columns(keys: Iterable[str], *, role: str = "csm") -> list[Column]:
    """The columns named in ``keys``, in the standard order (unknown keys ignored); the
    owners column is headed with ``role`` when the listing is about another role."""
    wanted = set(keys)
    return [
        Column("csms", f"Owners ({role})") if key == "csms" and role != "csm" else column
        for key, column in COLUMNS.items()
        if key in wanted
    ]


def owner_names(session: Session, *pages: AccountPage | None) -> dict[str, str]:
    """Each owner's name by email, for the owners listed on ``pages`` (one query): people
    think in names, so the owners column shows the name first and the email second."""
    emails = sorted(
        {email for listing in pages if listing for row in listing.items for email in row.csms}
    )
    return people_names(session, emails)


def people_names(session: Session, emails: Sequence[str]) -> dict[str, str]:
    """The name of each user by email (the email itself for one without a name)."""
    if not emails:
        return {}
    return {user.email: user.name or user.email for user in get_users(session, list(emails))}
