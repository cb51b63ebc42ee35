"""The ``bookwise`` command line: Typer commands over the services, one transaction each."""

from __future__ import annotations

from bookwise.cli import (
    accounts,
    admin,
    assignments,
    exporting,
    history,
    importing,
    rules,
    segments,
    tokens,
    users,
    web,
)
from bookwise.cli.app import app, main

app.command("init")(admin.init)
app.command("demo")(admin.demo)
app.command("recount")(admin.recount)
app.add_typer(users.users_app, name="users")
app.add_typer(tokens.tokens_app, name="tokens")
app.add_typer(accounts.accounts_app, name="accounts")
app.add_typer(admin.attributes_app, name="attributes")
app.add_typer(admin.roles_app, name="roles")
app.command("csms")(assignments.csms)
app.command("assign")(assignments.assign)
app.command("unassign")(assignments.unassign)
app.command("transfer")(assignments.transfer)
app.command("take-over")(assignments.take_over)
app.command("inherit")(assignments.inherit)
app.command("history")(history.history)
app.add_typer(history.operations_app, name="operations")
app.add_typer(importing.import_app, name="import")
app.add_typer(rules.rules_app, name="rules")
app.add_typer(segments.segments_app, name="segments")
app.add_typer(exporting.export_app, name="export")
app.command("serve")(web.serve)
app.command("demo-admin")(web.demo_admin)

__all__ = ["app", "main"]
