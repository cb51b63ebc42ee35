"""The API's OpenAPI document (errors as problem+json, the authentication schemes, the tags),
and the interactive reference that renders it at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse

from bookwise.http.api.common import PREFIX
from bookwise.http.context import SESSION_COOKIE
from bookwise.http.routing import get

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"

TAGS: list[dict[str, str]] = [
    {"name": "accounts", "description": "The assignment screen's listing, search and details."},
    {"name": "users", "description": "Users, their roles and CSM seats (changes: admins)."},
    {"name": "csms", "description": "The CSM overview: accounts and MRR per CSM."},
    {
        "name": "reports",
        "description": "Team performance per CSM in an explicit counting mode, now or as of a day.",
    },
    {"name": "segments", "description": "Saved rules with live members and refreshes."},
    {"name": "rules", "description": "Check a rule; list the fields rules may use."},
    {
        "name": "attributes",
        "description": "Custom account attributes and their types (declare, rename: admins).",
    },
    {
        "name": "assignment roles",
        "description": "The roles an owner holds an account in, csm and added ones (add: admins).",
    },
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
            "description": "The web app's session, for its pages' own scripts (writes also "
            "need the X-CSRF-Token header). Try it out in the reference at /api/v1/docs never "
            "sends it: authorize there with bearerAuth.",
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


DOCS_PATH = PREFIX + "/docs"
SWAGGER = "/static/swagger-ui/"
# Swagger UI 5 (static/swagger-ui/NOTICE), served by bookwise: no CDN, and no inline script or
# style, so the page keeps the strict Content-Security-Policy of every other answer.
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API reference · bookwise</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{SWAGGER}swagger-ui.css">
  <link rel="stylesheet" href="{SWAGGER}bookwise-docs.css">
  <script src="{SWAGGER}swagger-ui-bundle.js" defer></script>
  <script src="{SWAGGER}bookwise-docs.js" defer></script>
</head>
<body>
  <header class="docs">
    <a class="brand" href="/">bookwise</a>
    <p>API reference. To try a call: <strong>Authorize</strong> with an API token
    (<code>bw_…</code>: an admin creates one on the Users page or with
    <code>bookwise tokens create</code>), then
    <strong>Try it out</strong>. The calls act as the token's user, on this installation's
    data. The document itself: <a href="{PREFIX}/openapi.json">{PREFIX}/openapi.json</a>.</p>
  </header>
  <main id="swagger-ui"></main>
  <noscript>The API reference needs JavaScript; the OpenAPI document is at
  <a href="{PREFIX}/openapi.json">{PREFIX}/openapi.json</a>.</noscript>
</body>
</html>
"""

docs_router = APIRouter()


@get(docs_router, DOCS_PATH, role="public", include_in_schema=False, response_class=HTMLResponse)
def api_reference() -> HTMLResponse:
    """The interactive API reference: public, like the OpenAPI document it renders."""
    return HTMLResponse(DOCS_PAGE)


def install(app: FastAPI) -> None:
    """Serve :func:`api_document` at /api/v1/openapi.json and the reference at /api/v1/docs."""
    app.openapi = lambda: api_document(app)  # type: ignore[method-assign]
    app.include_router(docs_router)
