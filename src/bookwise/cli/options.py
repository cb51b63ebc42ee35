"""Options shared by the write commands."""

from __future__ import annotations

from typing import Annotated

import typer

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        metavar="EMAIL",
        help="Act as this user (recorded on the operation); overrides the global --as.",
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Preview what would change and write nothing.")
]
FingerprintOption = Annotated[
    str | None,
    typer.Option(
        "--fingerprint",
        metavar="F",
        help="Apply only if the change set still has the fingerprint a --dry-run printed.",
    ),
]
EmailArgument = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's email.")]
