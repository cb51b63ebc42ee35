"""The API's OpenAPI document: errors as problem+json, the authentication schemes, the tags."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bookwise.http.api.common import PREFIX
from bookwise.http.context import SESSION_COOKIE

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"

TAGS: list[dict[str, str]] = [
    {"name": "accounts", "description": "The assignment screen's listing, search and details."},
    {"name": "users", "description": "Users, their roles and CSM seats (changes: admins)."},
    {"name": "csms", "description": "The CSM overview: accounts and MRR per CSM."},
    {"name": "segments", "description": "Saved rules with live members and refreshes."},
    {"name": "rules", "description": "Check a rule; list the fields rules may use."},
    {
        "name": "assignments",
        "description": "Assign, unassign, transfer, inheritance: previews, fingerprints, "
        "per-id outcomes, Idempotency-Key.",
    },
    {"name": "operations", "description": "The log of ownership changes, and undo."},
    {"name": "import and export", "description": "CSV in (with a line-by-line report) and out."},
    {"name": "me", "description": "Who you are, and your API tokens."},
]


def api_document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of the routes under /api/v1 (built once)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=TAGS,
    )
    # Only the API is described (the pages' routes are left out where they are declared).
    document["paths"] = {
        path: item for path, item in document.get("paths", {}).items() if path.startswith(PREFIX)
    }
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for item in document.get("paths", {}).values():
        for operation in item.values():
            _problem_json(operation.get("responses", {}))
    # FastAPI's own validation error shape is never sent: bookwise answers with a Problem.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`bw_…`): create one with POST /api/v1/tokens, on "
            "the Users page, or with `bookwise tokens create EMAIL --name NAME`.",
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The web app's session (writes also need the X-CSRF-Token header).",
        },
    }
    document["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
    app.openapi_schema = document
    return document


def _problem_json(responses: dict[str, Any]) -> None:
    """Error responses are ``application/problem+json`` with the Problem schema."""
    for status, response in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        content = response.setdefault("content", {})
        body = content.pop("application/json", {})
        body["schema"] = {"$ref": PROBLEM_REF}
        content.clear()
        content[PROBLEM_JSON] = body


def install(app: FastAPI) -> None:
    """Serve :func:`api_document` at /api/v1/openapi.json."""
    app.openapi = lambda: api_document(app)  # type: ignore[method-assign]
