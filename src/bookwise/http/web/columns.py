"""The account columns listings can show, in one place (labels, alignment, sorting)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bookwise.assignments.listing import SORT_COLUMNS


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
