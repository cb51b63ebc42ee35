"""The ``bookwise`` command line: Typer commands over the services, one transaction each.

Each command's module is imported only when that command runs (or shows its own help):
``bookwise --help`` lists the summaries below without importing any service, and a command
loads the services, the rule grammar or the web server only if it uses them. A new command
is one more line here; tests/cli/test_startup.py checks that every summary matches the
first paragraph of its command's help.
"""

from __future__ import annotations

from bookwise.cli.app import LAZY_COMMANDS, LazyCommand, app, main


def _command(name: str, module: str, attribute: str, summary: str) -> None:
    LAZY_COMMANDS[name] = LazyCommand(module, attribute, summary)


_command(
    "init",
    "admin",
    "init",
    "Create the database, or upgrade it to the newest schema; prints where it is.",
)
_command(
    "demo",
    "admin",
    "demo",
    "Load a realistic, seeded demo book: hierarchy, CSMs, owners, MRR, health.",
)
_command(
    "recount",
    "admin",
    "recount",
    "Recount the CSM overview's counters and every account's child count from scratch,\n"
    "and repair any that are off.",
)
_command(
    "csms",
    "assignments",
    "csms",
    "Every active CSM-seat user with the number of accounts they own and their MRR.",
)
_command(
    "assign",
    "assignments",
    "assign",
    "Add one or several CSMs to the named accounts, or to every account a filter matches.",
)
_command(
    "unassign",
    "assignments",
    "unassign",
    "Remove one CSM from the named (or filtered) accounts; other owners stay.",
)
_command(
    "transfer",
    "assignments",
    "transfer",
    "Shift accounts from one CSM to another: the whole book, or the named/filtered part.",
)
_command(
    "take-over",
    "assignments",
    "take_over",
    "Make one CSM the only owner of the named or filtered accounts, in one operation.",
)
_command(
    "inherit",
    "assignments",
    "inherit",
    "Make every inheriting child own exactly its parent's CSMs, or change the default policy.",
)
_command(
    "history",
    "history",
    "history",
    "An account's ownership timeline, its owners on a date, or a CSM's book on a date.",
)
_command(
    "serve",
    "web",
    "serve",
    "Start the web app and the REST API, and print the address to open; Ctrl-C stops it.",
)
_command(
    "demo-admin",
    "web",
    "demo_admin",
    "Make sure admin@example.com exists as an admin with a CSM seat and the demo password.",
)
_command(
    "users", "users", "users_app", "Add, list, deactivate and activate users; set their passwords."
)
_command(
    "tokens",
    "tokens",
    "tokens_app",
    "Create, list and revoke API tokens (send one as Authorization: Bearer TOKEN).",
)
_command(
    "accounts",
    "accounts",
    "accounts_app",
    "Add, edit, show and list accounts; change their parent and inherit policy.",
)
_command(
    "attributes", "admin", "attributes_app", "Declare, rename and list custom account attributes."
)
_command("roles", "admin", "roles_app", "Add and list assignment roles (csm is built in).")
_command(
    "operations",
    "history",
    "operations_app",
    "List operations, show what one changed, and undo them.",
)
_command(
    "reports", "reports", "reports_app", "Team performance per CSM, in an explicit counting mode."
)
_command("import", "importing", "import_app", "Import accounts and users from CSV files.")
_command(
    "rules", "rules", "rules_app", "Check rules and list the fields and operators they may use."
)
_command(
    "segments",
    "segments",
    "segments_app",
    "Saved segments: named rules whose members are always current.",
)
_command("export", "exporting", "export_app", "Export accounts, users and history as CSV.")

__all__ = ["app", "main"]
