"""/api/v1/accounts: the assignment screen's listing, search by rule, one account, its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise import models
from bookwise.accounts.service import get_account
from bookwise.assignments.details import children_page, describe_account
from bookwise.assignments.history import TimelineRow, account_history
from bookwise.assignments.listing import AccountRow
from bookwise.http.api.common import MAX_ID, api_router, problems
from bookwise.http.api.days import Day
from bookwise.http.api.filters import (
    DEFAULT_LIMIT,
    SORT_DESCRIPTION,
    Limit,
    Offset,
    OwnershipFilters,
    QueryFilter,
    RuleValue,
    Sort,
)
from bookwise.http.context import reading
from bookwise.http.routing import get, post
from bookwise.listing import MAX_PAGE_SIZE
from bookwise.money import format_money
from bookwise.segments.selection import AccountFilter, list_selected

router = api_router("accounts")
CHILDREN_SHOWN = 100

Ref = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        description="The account's external id, or its id (`17` or `#17`).",
        examples=["ACME-1"],
    ),
]

_ACCOUNT_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "external_id": "ACME-1",
    "name": "Acme Corp",
    "parent_id": None,
    "depth": 0,
    "tier": 1,
    "lifecycle_stage": "onboarding",
    "mrr": "5000.00",
    "health_score": 72,
    "nps": 40,
    "csm_rating": 4,
    "region": "EMEA",
    "renewal_date": "2027-03-31",
    "created_at": "2026-01-15T09:30:00Z",
    "inherit_policy": None,
    "csms": ["ana@example.com"],
    "owner_inactive": False,
}


class Account(BaseModel):
    """An account as listings show it, with its current owners in the role listed."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ACCOUNT_EXAMPLE]})

    id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's id in the CRM, if it has one.")
    name: str = Field(description="The account's name.")
    parent_id: int | None = Field(
        description="The id of the parent account; null for a top-level account."
    )
    depth: int = Field(description="0 at the top of the hierarchy.")
    tier: int | None = Field(description="The account's tier (1 is the highest).")
    lifecycle_stage: str | None = Field(
        description="Where the customer is in its lifecycle (onboarding, adopted, ...)."
    )
    mrr: str | None = Field(description="Monthly recurring revenue, a decimal string.")
    health_score: int | None = Field(description="The health score, 0 to 100.")
    nps: int | None = Field(description="The net promoter score, -100 to 100.")
    csm_rating: int | None = Field(description="The CSM's rating of the account.")
    region: str | None = Field(description="The account's region (EMEA, NA, ...).")
    renewal_date: date | None = Field(description="The next renewal date (YYYY-MM-DD).")
    created_at: datetime = Field(description="When the account was added to bookwise (UTC).")
    inherit_policy: Literal["inherit", "own"] | None = Field(
        description="The account's own policy; null follows the installation default."
    )
    csms: list[str] = Field(description="Emails of the open owners (active ones first).")
    owner_inactive: bool = Field(description="Every owner is inactive (listed under no-one).")


class AccountList(BaseModel):
    """A page of accounts, the total number that match, and the filter in words."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_ACCOUNT_EXAMPLE],
                    "total": 1,
                    "limit": 50,
                    "offset": 0,
                    "filter": "rule: tier = 1",
                }
            ]
        }
    )

    items: list[Account] = Field(description="This page's accounts.")
    total: int = Field(description="How many accounts match (all pages).")
    limit: int = Field(description="The page size asked for.")
    offset: int = Field(description="How many matches come before this page.")
    filter: str = Field(description="What selected the accounts, in words.")


class AccountSearch(OwnershipFilters):
    """``GET /accounts`` as a JSON body: the rule may be text or its JSON form."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"rule": "tier = 1 and health_score < 50", "sort": "-mrr", "limit": 50},
                {
                    "rule": {"kind": "condition", "field": "csm", "op": "is empty"},
                    "segment": "Enterprise EMEA",
                },
            ]
        },
    )

    rule: RuleValue | None = Field(
        default=None,
        description="A rule (text or JSON) the accounts must match; none: every account.",
    )
    sort: str = Field(default="name", min_length=1, max_length=40, description=SORT_DESCRIPTION)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_PAGE_SIZE, description="The page size.")
    offset: int = Field(default=0, ge=0, le=MAX_ID, description="How many matches to skip.")


class AccountBrief(BaseModel):
    """An account named by id, external id and name."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": 17, "external_id": "ACME-1", "name": "Acme Corp"}]}
    )

    id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's id in the CRM, if it has one.")
    name: str = Field(description="The account's name.")


class Owner(BaseModel):
    """A current owner of an account: who, since when, and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ana@example.com",
                    "since": "2026-02-01T10:00:00Z",
                    "source": "manual",
                    "reason": "",
                    "primary": False,
                }
            ]
        }
    )

    email: str = Field(description="The owner's email.")
    since: datetime = Field(description="Since when they own the account (UTC).")
    source: str = Field(description="manual, inherited, import, undo, rule, playbook, balancer")
    reason: str = Field(description="The reason given when they were made owner (may be empty).")
    primary: bool = Field(description="True for the account's primary owner.")


class ChildList(BaseModel):
    """The first children of an account (by name), with their owners, and how many it has."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_ACCOUNT_EXAMPLE], "total": 1, "limit": 100}]}
    )

    items: list[Account] = Field(description="The first children of the account.")
    total: int = Field(description="How many children the account has.")
    limit: int = Field(description="How many children are listed at most.")


class AccountDetail(BaseModel):
    """One account in full: fields, custom attributes, hierarchy, policy, current owners."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{k: v for k, v in _ACCOUNT_EXAMPLE.items() if k not in ("csms",)},
                    "domain": "acme.example",
                    "is_parent": True,
                    "is_child": False,
                    "policy": "default",
                    "default_policy": "own",
                    "effective_policy": "own",
                    "custom": {"plan": "gold", "seats": 120},
                    "parent": None,
                    "children": {
                        "items": [
                            {
                                **_ACCOUNT_EXAMPLE,
                                "id": 18,
                                "external_id": "ACME-1-DE",
                                "name": "Acme GmbH",
                                "parent_id": 17,
                                "depth": 1,
                                "inherit_policy": "inherit",
                            }
                        ],
                        "total": 1,
                        "limit": 100,
                    },
                    "owners": {
                        "csm": [
                            {
                                "email": "ana@example.com",
                                "since": "2026-02-01T10:00:00Z",
                                "source": "manual",
                                "reason": "",
                                "primary": False,
                            }
                        ]
                    },
                }
            ]
        }
    )

    id: int = Field(description="The account's id.")
    external_id: str | None = Field(description="The account's id in the CRM, if it has one.")
    name: str = Field(description="The account's name.")
    domain: str | None = Field(description="The account's web domain (example.com).")
    mrr: str | None = Field(
        description="Monthly recurring revenue, a decimal string in currency units."
    )
    health_score: int | None = Field(description="The health score, 0 to 100.")
    tier: int | None = Field(description="The account's tier (1 is the highest).")
    lifecycle_stage: str | None = Field(
        description="Where the customer is in its lifecycle (onboarding, adopted, ...)."
    )
    nps: int | None = Field(description="The net promoter score, -100 to 100.")
    csm_rating: int | None = Field(description="The CSM's rating of the account.")
    region: str | None = Field(description="The account's region (EMEA, NA, ...).")
    renewal_date: date | None = Field(description="The next renewal date (YYYY-MM-DD).")
    created_at: datetime = Field(description="When the account was added to bookwise (UTC).")
    depth: int = Field(description="How deep the account sits in its family (0: top level).")
    is_parent: bool = Field(description="Has at least one child (Custify: company level 1).")
    is_child: bool = Field(description="Has a parent (Custify: company level 0).")
    policy: Literal["inherit", "own", "default"] = Field(
        description="The account's own inherit policy; `default` follows the installation's."
    )
    default_policy: Literal["inherit", "own"] = Field(
        description="The installation's default inherit policy."
    )
    effective_policy: Literal["inherit", "own"] = Field(
        description="The policy that applies: `inherit` follows the parent's owners."
    )
    custom: dict[str, Any] = Field(description="Custom attributes (money as decimal strings).")
    parent: AccountBrief | None = Field(
        description="The parent account; null for a top-level account."
    )
    children: ChildList
    owners: dict[str, list[Owner]] = Field(description="Current owners by role.")


class TimelineEntry(TimelineRow):
    """One assignment row: who held which role on the account, from when to when, and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": 17,
                    "external_id": "ACME-1",
                    "account": "Acme Corp",
                    "user": "ana@example.com",
                    "role": "csm",
                    "started_at": "2026-02-01T10:00:00Z",
                    "ended_at": None,
                    "source": "manual",
                    "reason": "new territory",
                    "actor": "lead@example.com",
                    "operation_id": 12,
                    "ended_operation_id": None,
                    "is_primary": False,
                }
            ]
        }
    )


class AccountHistory(BaseModel):
    """An account's ownership timeline (oldest first), or its owners at the end of ``on``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": TimelineEntry.model_json_schema()["examples"],
                    "total": 1,
                    "limit": 1000,
                    "offset": 0,
                    "on": None,
                }
            ]
        }
    )

    items: list[TimelineEntry] = Field(description="This page of the account's ownership timeline.")
    total: int = Field(description="How many entries the timeline has (all pages).")
    limit: int = Field(description="The page size asked for.")
    offset: int = Field(description="How many entries come before this page.")
    on: date | None = Field(description="The day asked for, if the history was read as of a date.")


def account_out(row: AccountRow) -> Account:
    """A listing row in the API's shape (money as a decimal string)."""
    # Built from the row's fields, not by dumping it to JSON and validating that again:
    # the values come typed from the database, and a page has up to 1,000 rows.
    fields = dict(row.__dict__)
    fields["mrr"] = format_money(row.mrr) if row.mrr is not None else None
    return Account.model_construct(**fields)


def account_listing(
    session: Session, filters: AccountFilter, *, sort: str, limit: int, offset: int
) -> AccountList:
    """A page of the accounts ``filters`` select, and the filters in words."""
    page, described = list_selected(session, filters, sort=sort, limit=limit, offset=offset)
    return AccountList(
        items=[account_out(row) for row in page.items],
        total=page.total or 0,
        limit=page.limit,
        offset=page.offset,
        filter=described,
    )


@get(
    router,
    "/accounts",
    role="viewer",
    response_model=AccountList,
    summary="List accounts (the assignment screen)",
    responses=problems(404),
)
def list_accounts(
    request: Request,
    filters: QueryFilter,
    sort: Sort = "name",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> AccountList:
    """Accounts matching every filter given, a page at a time, with their current owners.

    An unknown user or segment named in a filter is a 404; a rule error is a 422 with its
    position in the rule text.
    """
    with reading(request) as session:
        return account_listing(session, filters, sort=sort, limit=limit, offset=offset)


@post(
    router,
    "/accounts/search",
    role="viewer",
    response_model=AccountList,
    summary="Search accounts with a rule (text or JSON)",
    responses=problems(400, 404),
)
def search_accounts(request: Request, body: AccountSearch) -> AccountList:
    """Like ``GET /accounts``, with the filters in a JSON body and the rule as text or JSON."""
    with reading(request) as session:
        filters = body.account_filter(body.rule)
        return account_listing(
            session, filters, sort=body.sort, limit=body.limit, offset=body.offset
        )


@get(
    router,
    "/accounts/{ref}",
    role="viewer",
    response_model=AccountDetail,
    summary="Show one account",
    responses=problems(404),
)
def get_account_detail(request: Request, ref: Ref) -> AccountDetail:
    """Fields, custom attributes, parent, the first 100 children with their owners, the
    inherit policy (own, default and effective) and the current owners by role."""
    with reading(request) as session:
        return account_detail(session, get_account(session, ref))


def account_detail(session: Session, account: models.Account) -> AccountDetail:
    """One account in the API's shape (money as decimal strings), its first children too."""
    details = describe_account(session, account, with_children=False)
    kids = children_page(session, account, limit=CHILDREN_SHOWN)
    values = details.model_dump(exclude={"children"})
    values["mrr"] = format_money(details.mrr) if details.mrr is not None else None
    values["custom"] = {
        c.name: format_money(c.value) if c.type == "money" and c.value is not None else c.value
        for c in details.custom
    }
    values["children"] = ChildList(
        items=[account_out(row) for row in kids.items], total=kids.total or 0, limit=kids.limit
    )
    return AccountDetail.model_validate(values)


@get(
    router,
    "/accounts/{ref}/history",
    role="viewer",
    response_model=AccountHistory,
    summary="An account's ownership history",
    responses=problems(404),
)
def get_account_history(
    request: Request,
    ref: Ref,
    on: Annotated[
        Day | None,
        Query(
            description="Only the owners at the end of this day (installation time zone): "
            "YYYY-MM-DD, today or yesterday.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size.")] = 1000,
    offset: Offset = 0,
) -> AccountHistory:
    """Every assignment row the account ever had, oldest first: who, role, from, to, source,
    reason, actor and operation; or, with ``on``, who owned it at the end of that day."""
    with reading(request) as session:
        account = get_account(session, ref)
        page = account_history(session, account=account, on=on, limit=limit, offset=offset)
    return AccountHistory(
        items=[TimelineEntry.model_validate(row.model_dump()) for row in page.items],
        total=page.total or 0,
        limit=limit,
        offset=offset,
        on=on,
    )
