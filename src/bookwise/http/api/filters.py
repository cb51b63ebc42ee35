"""Selecting accounts in requests: the filters as query parameters or JSON, and explicit ids.

Both build a ``bookwise.segments.selection.AccountFilter``, the same object the CLI's options
build, so a filter means the same in both; only the messages name the API's fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from bookwise.assignments.listing import SORT_COLUMNS
from bookwise.assignments.selection import MAX_EXPLICIT_IDS, Selection
from bookwise.http.api.common import MAX_ID
from bookwise.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bookwise.segments.selection import AccountFilter, Wording, build_selection

API_WORDING = Wording(
    who_alone="who only applies together with not_assigned_to",
    missing="name accounts (ids) or a filter (filter, segment, assigned_to, unassigned, or "
    "not_assigned_to with who)",
    both="name accounts (ids) or a filter, not both",
)

Who = Literal["no-one", "others", "all"]
MAX_RULE_LENGTH = 10_000
RULE_DESCRIPTION = (
    "A rule as text (`tier = 1 and health_score < 50`; see docs/rule-language.md) or its "
    "JSON form (the AST of `bookwise.rules.ast`: nodes tagged by `kind`, values by `type`)."
)
RULE_EXAMPLES: list[Any] = [
    "tier = 1 and health_score < 50",
    {
        "kind": "and",
        "items": [
            {
                "kind": "condition",
                "field": "tier",
                "op": "=",
                "value": {"type": "number", "value": "1"},
            },
            {"kind": "condition", "field": "csm", "op": "is empty"},
        ],
    },
]
RuleText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_RULE_LENGTH)]
RuleValue = Annotated[
    RuleText | dict[str, Any], Field(description=RULE_DESCRIPTION, examples=RULE_EXAMPLES)
]
# A user: an email, or a unique full name (users.service.get_user).
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
SegmentName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
RoleName = Annotated[str, StringConstraints(min_length=1, max_length=40)]
AccountRef = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    | Annotated[int, Field(ge=1, le=MAX_ID)],
    Field(description='An external id (`"ACME-1"`), or an id (`17` or `"#17"`).'),
]
SORT_DESCRIPTION = (
    f"A field, `-` first for descending: {', '.join(SORT_COLUMNS)}. Ties are broken by id."
)


class OwnershipFilters(BaseModel):
    """The assignment screen's filters; every one given narrows the selection."""

    model_config = ConfigDict(extra="forbid")

    assigned_to: Email | None = Field(default=None, description="Only accounts this user owns.")
    not_assigned_to: Email | None = Field(
        default=None, description="Only accounts this user does not own (see `who`)."
    )
    who: Who | None = Field(
        default=None,
        description="With `not_assigned_to`: `no-one` (no active owner; includes owner "
        "inactive), `others` (owned only by other users), `all` (both; the default).",
    )
    unassigned: bool = Field(default=False, description="Only accounts no active user owns.")
    segment: SegmentName | None = Field(
        default=None, description="Only the accounts in this saved segment, right now."
    )
    role: RoleName = Field(
        default="csm", description="The assignment role the filters (and a change) are about."
    )

    def account_filter(self, rule: str | dict[str, Any] | None) -> AccountFilter:
        """These filters and ``rule`` as the selection service's filter."""
        return AccountFilter(
            assigned_to=self.assigned_to,
            not_assigned_to=self.not_assigned_to,
            who=self.who,
            unassigned=self.unassigned,
            role=self.role,
            where=rule,
            segment=self.segment,
            wording=API_WORDING,
        )


class SelectionIn(OwnershipFilters):
    """Which accounts: explicit ``ids`` (results come back in their order), or filters."""

    ids: list[AccountRef] | None = Field(
        default=None,
        description=f"Accounts named one by one, at most {MAX_EXPLICIT_IDS:,} (more is a 413: "
        "use a filter). Each gets its own outcome, in this order.",
        json_schema_extra={"maxItems": MAX_EXPLICIT_IDS},
    )
    filter: RuleValue | None = Field(
        default=None,
        description="A rule (text or JSON) the accounts must match, instead of `ids`.",
    )

    def names_accounts(self) -> bool:
        """True when ids or a filter were given."""
        return bool(self.ids) or self.who is not None or self.account_filter(self.filter).given()

    def selection(self, session: Session) -> Selection:
        """The ids or filters as a selection for the assignment services (one is required)."""
        filters = self.account_filter(self.filter)
        return build_selection(session, self.ids or [], filters, required=True)

    def optional_selection(self, session: Session) -> Selection | None:
        """The ids or filters as a selection, or None when neither was given."""
        filters = self.account_filter(self.filter)
        return build_selection(session, self.ids or [], filters, required=False)


async def query_filter(
    rule: Annotated[
        str | None,
        Query(
            alias="filter",
            max_length=MAX_RULE_LENGTH,
            description="Only accounts matching this rule (text; see docs/rule-language.md).",
            examples=["tier = 1 and health_score < 50"],
        ),
    ] = None,
    assigned_to: Annotated[
        str | None, Query(max_length=320, description="Only accounts this user (email) owns.")
    ] = None,
    not_assigned_to: Annotated[
        str | None,
        Query(max_length=320, description="Only accounts this user does not own (see `who`)."),
    ] = None,
    who: Annotated[
        Who | None,
        Query(description="With `not_assigned_to`: `no-one`, `others` or `all` (the default)."),
    ] = None,
    unassigned: Annotated[
        bool, Query(description="Only accounts that no active user owns.")
    ] = False,
    segment: Annotated[
        str | None,
        Query(max_length=200, description="Only the accounts in this saved segment, right now."),
    ] = None,
    role: Annotated[
        str, Query(min_length=1, max_length=40, description="The role the filters are about.")
    ] = "csm",
) -> AccountFilter:
    """The filters of ``GET /accounts`` and ``GET /export/accounts``."""
    return AccountFilter(
        assigned_to=assigned_to or None,
        not_assigned_to=not_assigned_to or None,
        who=who,
        unassigned=unassigned,
        role=role,
        where=rule if rule and rule.strip() else None,
        segment=segment,
        wording=API_WORDING,
    )


QueryFilter = Annotated[AccountFilter, Depends(query_filter)]
Sort = Annotated[
    str, Query(min_length=1, max_length=40, description=SORT_DESCRIPTION, examples=["-mrr"])
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}.")
]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="How many to skip.")]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE
