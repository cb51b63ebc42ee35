"""What every API module shares: the Problem schema, error responses, ids, idempotent writes."""

from __future__ import annotations

import email.message
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from bookwise.auth.idempotency import MAX_KEY_LENGTH, claim_key, request_hash, store_response
from bookwise.errors import InvalidInput
from bookwise.http.context import Caller, writing

PREFIX = "/api/v1"
NUL = "\x00"
MAX_ID = 2**31 - 1
"""Ids are 32-bit integers on both databases; larger numbers can name nothing."""


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids are the route functions' names (``list_accounts``)."""
    return route.name


async def single_query_values(request: Request) -> None:
    """Every query parameter is a single value: ``?role=a&role=b`` is an error, not ``b``."""
    names = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, count in names.items() if count > 1)
    if repeated:
        raise InvalidInput(f"give each query parameter once: {', '.join(repeated)}")


def is_json(content_type: str) -> bool:
    """Whether FastAPI reads a body of this type as JSON (``application/json``, ``…+json``)."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def json_object_body(request: Request) -> None:
    """A JSON body is an object or nothing at all.

    An optional body (``body: X | None = None``) would otherwise read ``null`` as "no body"
    (``null`` sent to an undo ran the undo), and a route without a body would ignore any.
    """
    if not is_json(request.headers.get("content-type", "")):
        return
    raw = await request.body()
    if not raw:
        return
    try:
        parsed = await request.json()
    except ValueError as exc:  # a route without a body of its own: FastAPI has not looked
        raise InvalidInput(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        kind = _JSON_KINDS.get(type(parsed), "a value")
        raise InvalidInput(
            f"the body must be a JSON object ({{...}}), not {kind}; send {{}} or no body "
            "for the defaults"
        )


_JSON_KINDS: dict[type, str] = {
    type(None): "null",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
}


async def no_nul_characters(request: Request) -> None:
    """Text with a NUL character is refused: no name or rule has one, PostgreSQL cannot
    store one, and it would otherwise fail deep inside a query."""
    found = [
        f"query parameter {name}"
        for name, value in request.query_params.multi_items()
        if NUL in name or NUL in value
    ]
    found += [
        f"path parameter {name}" for name, value in request.path_params.items() if NUL in str(value)
    ]
    content_type = request.headers.get("content-type", "")
    if is_json(content_type):
        raw = await request.body()
        if b"\\u0000" in raw and _holds_nul(await request.json()):  # cheap first look
            found.append("the body")
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()
        found += [
            f"form field {name}"
            for name, value in form.multi_items()
            if isinstance(value, str) and NUL in value
        ]
    if found:
        raise InvalidInput(f"text may not contain NUL characters (\\u0000): {', '.join(found)}")


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


def api_router(tag: str) -> APIRouter:
    """A router under /api/v1 with one tag and readable operation ids."""
    return APIRouter(
        prefix=PREFIX,
        tags=[tag],
        generate_unique_id_function=operation_id,
        dependencies=[
            Depends(single_query_values),
            Depends(json_object_body),
            Depends(no_nul_characters),
        ],
    )


class FieldError(BaseModel):
    """One invalid field of a request: where (``loc``) and why (``msg``)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"loc": ["body", "to"], "msg": "Field required"}]}
    )

    loc: list[str] = Field(description="Where the problem is: the path to the field.")
    msg: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An error (RFC 9457 ``application/problem+json``); ``type`` is stable, ``detail`` says why.

    Rule errors add ``reason``, ``position`` and ``end`` (offsets in the rule text) or ``path``
    (in a JSON rule); malformed requests list every invalid field in ``errors``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://bookwise.dev/problems/not-found",
                    "title": "Not found",
                    "status": 404,
                    "detail": "no account with external id or id 'ACME-9'",
                }
            ]
        }
    )

    type: str = Field(description="A URI that names the kind of error; stable, safe to switch on.")
    title: str = Field(description="A short summary of the kind of error.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this request, and how to fix it.")
    errors: list[FieldError] | None = Field(
        default=None, description="Every invalid field (malformed requests only)."
    )
    reason: str | None = Field(default=None, description="Rule errors: the reason alone.")
    position: int | None = Field(
        default=None,
        description="Rule errors: where the problem starts in the rule text (0-based).",
    )
    end: int | None = Field(default=None, description="Rule errors: where the problem ends.")
    path: str | None = Field(default=None, description="Rule errors in a JSON rule: where.")


_TYPE = "https://bookwise.dev/problems/"
_DESCRIPTIONS: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "The request body could not be read (for example a malformed multipart upload).",
        {"type": _TYPE + "http-400", "title": "Bad request", "status": 400, "detail": "…"},
    ),
    401: (
        "Not signed in: send `Authorization: Bearer <token>`.",
        {
            "type": _TYPE + "not-signed-in",
            "title": "Not signed in",
            "status": 401,
            "detail": "the API token is unknown, revoked, or its user is inactive",
        },
    ),
    403: (
        "Your role does not allow this (or, with a browser session, the CSRF token is missing).",
        {
            "type": _TYPE + "forbidden",
            "title": "Forbidden",
            "status": 403,
            "detail": "this needs the manager role; you are a viewer",
        },
    ),
    404: (
        "Something the request names does not exist (account, user, segment, operation, role).",
        {
            "type": _TYPE + "not-found",
            "title": "Not found",
            "status": 404,
            "detail": "no user with email nobody@example.com",
        },
    ),
    409: (
        "The request collides with the current state: a preview that no longer matches its "
        "fingerprint, a later operation blocking an undo, a name already taken, a refused change.",
        {
            "type": _TYPE + "conflict",
            "title": "Conflict",
            "status": 409,
            "detail": "the accounts this operation would change are no longer those previewed "
            "(fingerprint 3f2a… expected, 9c1b… now); preview again",
        },
    ),
    413: (
        "More than 50,000 explicit ids (select the accounts with a filter instead), or a "
        "request body larger than the installation's limit (1 MiB, 100 MiB for an upload).",
        {
            "type": _TYPE + "request-too-large",
            "title": "Request too large",
            "status": 413,
            "detail": "50,001 ids in one request; the limit is 50,000. Select the accounts with "
            "a filter instead …",
        },
    ),
    422: (
        "Invalid input: a malformed or out-of-range field, a rule error (with its position), "
        "an unknown sort field, or an Idempotency-Key reused for a different request.",
        {
            "type": _TYPE + "invalid-rule",
            "title": "Invalid rule",
            "status": 422,
            "detail": "invalid rule: unknown field 'helth' (column 14)\n"
            "  tier = 1 and helth < 5\n               ^^^^^",
            "reason": "unknown field 'helth'",
            "position": 13,
            "end": 18,
        },
    ),
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route: 401, 403 and 422 always, plus ``codes``."""
    found: dict[int | str, dict[str, Any]] = {}
    for code in sorted({401, 403, 422, *codes}):
        description, example = _DESCRIPTIONS[code]
        found[code] = {
            "model": Problem,
            "description": description,
            # Moved to application/problem+json by bookwise.http.api.openapi.
            "content": {"application/json": {"example": example}},
        }
    return found


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Any unique string (a UUID). A retry with the same key returns the first "
        "response and changes nothing twice; the same key with a different request is a 422. "
        "Keys are kept for 24 hours.",
        examples=["5f0c7a0e-5d1b-4c36-9a43-1f3e7f1d2b7e"],
    ),
]

REPLAYED_HEADER = "Idempotent-Replayed"


def idempotent_responses(description: str, *codes: int) -> dict[int | str, dict[str, Any]]:
    """The responses of a route that takes an Idempotency-Key: a 200 that may be a replay."""
    replayed = {
        "description": "`true` when this is the stored response of an earlier request with "
        "the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
    return {
        **problems(*codes),
        200: {"description": description, "headers": {REPLAYED_HEADER: replayed}},
    }


def run_once(
    request: Request,
    caller: Caller,
    key: str | None,
    identity: object,
    work: Callable[[Session], BaseModel],
) -> JSONResponse:
    """Run ``work`` as the request's one transaction, at most once per Idempotency-Key.

    ``identity`` is what makes two requests the same (the parsed body, the upload's digest):
    with a key seen before, the stored response is returned if it matches, else a 422.
    """
    digest = request_hash(request.method, request.url.path, identity)

    def guarded(session: Session) -> tuple[int, dict[str, Any], bool]:
        if key is not None:
            stored = claim_key(session, user_id=caller.user_id, key=key, request_hash=digest)
            if stored is not None:
                return stored.status_code, stored.body, True
        body = work(session).model_dump(mode="json", by_alias=True)
        if key is not None:
            store_response(session, user_id=caller.user_id, key=key, status_code=200, body=body)
        return 200, body, False

    status, body, replayed = writing(request, guarded)
    response = JSONResponse(body, status_code=status)
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response
