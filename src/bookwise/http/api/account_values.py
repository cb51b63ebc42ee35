"""``GET /api/v1/accounts/{ref}/values``: an account's value history (issue 16)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from pydantic import ConfigDict
from pydantic.config import JsonDict

from bookwise.accounts.service import get_account
from bookwise.accounts.values import SHOWN_FIELDS, ValuePage, list_value_changes
from bookwise.http.api.accounts import Ref
from bookwise.http.api.common import api_router, problems
from bookwise.http.api.filters import Offset
from bookwise.http.context import reading
from bookwise.http.routing import get

router = api_router("accounts")

EXAMPLE: JsonDict = {
    "items": [
        {
            "field": "health_score",
            "value": "35",
            "previous": "72",
            "changed_at": "2026-03-02T09:15:00Z",
            "until": None,
            "source": "import",
            "by": "Ana Silva",
            "by_email": "ana@example.com",
            "operation_id": None,
            "import_id": 181818,
        }
    ],
    "total": 1,
    "limit": 50,
    "offset": 0,
}


class AccountValues(ValuePage):
    """An account's value history, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})


@get(
    router,
    "/accounts/{ref}/values",
    role="viewer",
    response_model=AccountValues,
    summary="An account's value history",
    responses=problems(404),
)
def get_account_values(
    request: Request,
    ref: Ref,
    field: Annotated[
        str | None,
        Query(description=f"Only this field's history: one of {', '.join(SHOWN_FIELDS)}."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size.")] = 50,
    offset: Offset = 0,
) -> AccountValues:
    """Every value the account's report fields (and its parent) held, newest first: the
    value, the one it replaced, when, until when, who changed it and through what."""
    with reading(request) as session:
        account = get_account(session, ref)
        page = list_value_changes(session, account=account, field=field, limit=limit, offset=offset)
    return AccountValues.model_validate(page.model_dump())
