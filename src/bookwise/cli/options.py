"""Options shared by several commands."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from bookwise.dates import DATE_FORMS, parse_date
from bookwise.errors import InvalidInput

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

# --- listings ------------------------------------------------------------------------------

SortOption = Annotated[
    str, typer.Option("--sort", metavar="FIELD", help="A field, - for descending (e.g. -mrr).")
]
LimitOption = Annotated[
    int, typer.Option("--limit", metavar="N", min=1, max=1000, help="Page size (1-1000).")
]
OffsetOption = Annotated[int, typer.Option("--offset", metavar="N", min=0, help="Skip this many.")]
CountOption = Annotated[bool, typer.Option("--count", help="Print only the number.")]

# --- dates -------------------------------------------------------------------------------


def date_option(param: typer.CallbackParam, value: str | None) -> str | None:
    """Callback of a date option: ``today``/``yesterday`` become the ISO date they mean.

    So that a command passes on the same ``YYYY-MM-DD`` text whichever form was typed; a
    wrong date is an ``InvalidInput`` naming the option (one ``error:`` line, exit 1).
    """
    if value is None:
        return None
    return parse_date(value, field=param.opts[0] if param.opts else "date").isoformat()


# --- history (shared by `history` and `export history`) -----------------------------------

HistoryRefArgument = Annotated[
    str | None, typer.Argument(metavar="REF", help="Account (external id or id).")
]
HistoryOnOption = Annotated[
    str | None,
    typer.Option(
        "--on", metavar="DATE", help=f"Owners (or a book) at the end of DATE ({DATE_FORMS})."
    ),
]
HistoryCsmOption = Annotated[
    str | None,
    typer.Option("--csm", metavar="EMAIL", help="A CSM's book on --on DATE (default today)."),
]
HistoryRoleOption = Annotated[
    str, typer.Option("--role", metavar="ROLE", help="Role of the book (with --csm).")
]


def history_day(ref: str | None, csm: str | None, on: str | None) -> date | None:
    """Check that exactly one of REF and --csm is given; the --on date, if any."""
    if (ref is None) == (csm is None):
        raise InvalidInput("name either an account (REF) or a CSM (--csm EMAIL)")
    return parse_date(on, field="--on") if on else None
