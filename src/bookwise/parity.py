"""Every CLI command beside its REST API routes and its web pages (issue 15): the parity table.

A capability is not done until the CLI, the API and the pages all offer it. This registry
names, for each command of ``bookwise`` (a leaf of the Typer app, e.g. ``users add``), the
routes of ``/api/v1`` and the pages that do the same thing, each as ``METHOD /path template``
exactly as the app declares it. A command that lacks a transport says why in ``missing``.
``tests/test_parity.py`` walks the Typer app and the FastAPI app and fails when a command is
not listed here, when one lacks a route or a page without a reason, when a reason is left on
a command that has both, or when a route or page named here does not exist.

The registry is plain strings in a base module, on purpose: the ``cli`` and ``http``
transports are independent layers (neither may import the other), and ``bookwise.docsections``
(a base module) renders the table into docs/api.md from it; the test checks the strings
against both live apps.
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_YET = "not yet — issue 15 left"
"""The reason of a gap nobody has built yet (as opposed to one that is meant to stay)."""


@dataclass(frozen=True)
class Parity:
    """One CLI command and what does the same on the API and on the pages."""

    command: str
    api: tuple[str, ...] = ()
    web: tuple[str, ...] = ()
    missing: str = ""  # why the API or the pages lack it; required exactly when one does


OPERATOR_ONLY = (
    "run by whoever installs bookwise, on the database itself, before or beside the server"
)

PARITY: tuple[Parity, ...] = (
    Parity("init", missing=f"creates or upgrades the schema: {OPERATOR_ONLY}"),
    Parity(
        "demo",
        missing="loads made-up accounts into an empty database, for a trial: " + OPERATOR_ONLY,
    ),
    Parity(
        "recount",
        missing="repairs derived counters after a manual database edit: " + OPERATOR_ONLY,
    ),
    Parity("csms", api=("GET /api/v1/csms",), web=("GET /assignment",)),
    Parity(
        "reports team",
        api=("GET /api/v1/reports/team",),
        web=("GET /reports/team", "GET /reports/team.csv"),
    ),
    Parity(
        "assign",
        api=("POST /api/v1/assignments/assign",),
        web=("POST /assignment/preview", "POST /operations/apply", "POST /accounts/{ref}/csms"),
    ),
    Parity(
        "unassign",
        api=("POST /api/v1/assignments/unassign",),
        web=(
            "POST /assignment/preview",
            "POST /operations/apply",
            "POST /accounts/{ref}/csms/remove",
        ),
    ),
    Parity(
        "transfer",
        api=("POST /api/v1/assignments/transfer",),
        web=("POST /assignment/preview", "POST /operations/apply"),
    ),
    Parity(
        "take-over",
        api=("POST /api/v1/assignments/take-over",),
        web=("POST /assignment/preview", "POST /operations/apply"),
    ),
    Parity(
        "inherit",
        api=("POST /api/v1/assignments/inherit",),
        web=("POST /accounts/default-policy", "POST /accounts/policy"),
    ),
    Parity(
        "history",
        api=("GET /api/v1/accounts/{ref}/history", "GET /api/v1/csms/{user}/book"),
        web=("GET /accounts/{ref}", "GET /accounts/{ref}/owners", "GET /csms/book"),
    ),
    Parity(
        "serve",
        missing="starts the web app and the API themselves: there is nothing to serve them from",
    ),
    Parity(
        "demo-admin",
        missing="creates the demo's admin with a published password, for a trial: " + OPERATOR_ONLY,
    ),
    Parity("users add", api=("POST /api/v1/users",), web=("POST /users/add",)),
    Parity("users list", api=("GET /api/v1/users",), web=("GET /users",)),
    Parity(
        "users deactivate", api=("PATCH /api/v1/users/{email}",), web=("POST /users/deactivate",)
    ),
    Parity("users activate", api=("PATCH /api/v1/users/{email}",), web=("POST /users/activate",)),
    Parity("users set-seat", api=("PATCH /api/v1/users/{email}",), web=("POST /users/seat",)),
    Parity(
        "users set-password",
        api=("POST /api/v1/users/{email}/password",),
        web=("POST /users/password",),
    ),
    Parity(
        "tokens create", api=("POST /api/v1/tokens",), web=("POST /tokens", "POST /users/tokens")
    ),
    Parity("tokens list", api=("GET /api/v1/tokens",), web=("GET /tokens", "GET /users")),
    Parity(
        "tokens revoke",
        api=("DELETE /api/v1/tokens/{token_id}",),
        web=("POST /tokens/revoke", "POST /users/tokens/revoke"),
    ),
    Parity(
        "accounts add",
        api=("POST /api/v1/accounts",),
        web=("GET /accounts/new", "POST /accounts/new"),
    ),
    Parity(
        "accounts edit",
        api=("PATCH /api/v1/accounts/{ref}",),
        web=("GET /accounts/{ref}/edit", "POST /accounts/{ref}/edit"),
    ),
    Parity("accounts show", api=("GET /api/v1/accounts/{ref}",), web=("GET /accounts/{ref}",)),
    Parity(
        "accounts values",
        api=("GET /api/v1/accounts/{ref}/values",),
        web=("GET /accounts/{ref}",),
    ),
    Parity(
        "accounts set-parent",
        api=("PATCH /api/v1/accounts/{ref}",),
        web=("POST /accounts/{ref}/parent",),
    ),
    Parity(
        "accounts set-policy",
        api=("POST /api/v1/assignments/inherit",),
        web=(
            "POST /accounts/{ref}/policy/preview",
            "POST /accounts/{ref}/policy",
            "POST /accounts/policy",
        ),
    ),
    Parity(
        "accounts list",
        api=("GET /api/v1/accounts", "POST /api/v1/accounts/search"),
        web=("GET /accounts",),
    ),
    Parity("attributes add", api=("POST /api/v1/attributes",), web=("POST /attributes/add",)),
    Parity(
        "attributes rename",
        api=("POST /api/v1/attributes/{name}/rename",),
        web=("POST /attributes/rename",),
    ),
    Parity("attributes list", api=("GET /api/v1/attributes",), web=("GET /attributes",)),
    Parity("roles add", api=("POST /api/v1/roles",), web=("POST /roles/add",)),
    Parity("roles list", api=("GET /api/v1/roles",), web=("GET /roles",)),
    Parity("operations list", api=("GET /api/v1/operations",), web=("GET /operations",)),
    Parity(
        "operations show",
        api=(
            "GET /api/v1/operations/{operation_id}",
            "GET /api/v1/operations/{operation_id}/changes",
        ),
        web=("GET /operations/{operation_id}", "GET /operations/{operation_id}/changes.csv"),
    ),
    Parity(
        "operations undo",
        api=("POST /api/v1/operations/{operation_id}/undo",),
        web=("GET /operations/{operation_id}/undo", "POST /operations/{operation_id}/undo"),
    ),
    Parity(
        "import accounts",
        api=("POST /api/v1/import/accounts",),
        web=("POST /import", "GET /import/{token}", "POST /import/{token}/apply"),
    ),
    Parity(
        "import users",
        api=("POST /api/v1/import/users",),
        web=("POST /import", "GET /import/{token}", "POST /import/{token}/apply"),
    ),
    Parity("rules check", api=("POST /api/v1/rules/check",), web=("GET /accounts",)),
    Parity(
        "rules fields",
        api=("GET /api/v1/rules/fields",),
        web=("GET /rules/fields",),
    ),
    Parity("segments create", api=("POST /api/v1/segments",), web=("POST /segments/new",)),
    Parity(
        "segments edit",
        api=("PATCH /api/v1/segments/{name}",),
        web=("GET /segments/{segment_id}/edit", "POST /segments/{segment_id}/edit"),
    ),
    Parity("segments list", api=("GET /api/v1/segments",), web=("GET /segments",)),
    Parity(
        "segments show",
        api=("GET /api/v1/segments/{name}",),
        web=("GET /segments/{segment_id}",),
    ),
    Parity(
        "segments members",
        api=("GET /api/v1/segments/{name}/members",),
        web=("GET /segments/{segment_id}",),
    ),
    Parity(
        "segments refresh", api=("POST /api/v1/segments/refresh",), web=("POST /segments/refresh",)
    ),
    Parity(
        "segments delete",
        api=("DELETE /api/v1/segments/{name}",),
        web=("POST /segments/{segment_id}/delete",),
    ),
    Parity(
        "export accounts",
        api=("GET /api/v1/export/accounts",),
        web=("GET /export/accounts.csv",),
    ),
    Parity("export users", api=("GET /api/v1/export/users",), web=("GET /users/export.csv",)),
    Parity(
        "export history",
        api=("GET /api/v1/export/history",),
        web=("GET /export/history.csv",),
    ),
)


def _routes(routes: tuple[str, ...]) -> str:
    return "<br>".join(f"`{route}`" for route in routes) or "—"


def parity_markdown() -> str:
    """The table of docs/api.md: each command, its routes, its pages, and why one is missing."""
    lines = [
        "| Command | REST API | Web | Why one is missing |",
        "|---|---|---|---|",
    ]
    for row in PARITY:
        lines.append(
            f"| `bookwise {row.command}` | {_routes(row.api)} | {_routes(row.web)} "
            f"| {row.missing} |"
        )
    return "\n".join(lines) + "\n"
