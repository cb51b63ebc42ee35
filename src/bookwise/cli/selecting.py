"""Which accounts a command acts on: the options; the selection is built in segments.selection."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bookwise.errors import InvalidInput

if TYPE_CHECKING:
    from bookwise.segments.selection import AccountFilter, build_selection
else:
    # Imported when a command builds a selection, not when the CLI starts: the selection
    # pulls in the rule language (its grammar and parser), which most commands never use.

    def AccountFilter(*args: Any, **kwargs: Any) -> Any:
        """segments.selection.AccountFilter, imported on first use."""
        from bookwise.segments.selection import AccountFilter as real

        return real(*args, **kwargs)

    def build_selection(*args: Any, **kwargs: Any) -> Any:
        """segments.selection.build_selection, imported on first use."""
        from bookwise.segments.selection import build_selection as real

        return real(*args, **kwargs)


__all__ = ["FilterArgs", "WhoChoice", "build_selection", "read_refs"]


class WhoChoice(StrEnum):
    """Which accounts not assigned to a CSM: no-one's, other CSMs', or both."""

    no_one = "no-one"
    others = "others"
    all = "all"


RefsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="REF",
        help="Accounts by external id or numeric id (results come back in this order).",
        show_default=False,
    ),
]
IdsFromOption = Annotated[
    str | None,
    typer.Option(
        "--ids-from",
        metavar="FILE|-",
        help="Read more account refs from FILE (or stdin with -), one per line.",
    ),
]
AssignedToOption = Annotated[
    str | None,
    typer.Option("--assigned-to", metavar="EMAIL", help="Only accounts EMAIL owns."),
]
NotAssignedToOption = Annotated[
    str | None,
    typer.Option(
        "--not-assigned-to", metavar="EMAIL", help="Only accounts EMAIL does not own (see --who)."
    ),
]
WhoOption = Annotated[
    WhoChoice | None,
    typer.Option(
        "--who",
        help="With --not-assigned-to: no-one (no active CSM; includes owner inactive), "
        "others (owned only by other CSMs), all (both; the default).",
        show_default=False,
    ),
]
UnassignedOption = Annotated[
    bool, typer.Option("--unassigned", help="Only accounts that no active user owns.")
]
WhereOption = Annotated[
    str | None,
    typer.Option(
        "--where",
        metavar="RULE",
        help='Only accounts matching RULE, e.g. --where "tier = 1 and health_score < 50" '
        "(see docs/rule-language.md).",
    ),
]
SegmentOption = Annotated[
    str | None,
    typer.Option("--segment", metavar="NAME", help="Only accounts in the saved segment NAME."),
]
RoleOption = Annotated[
    str,
    typer.Option(
        "--role", metavar="ROLE", help="The assignment role the filters and the change are about."
    ),
]


FilterArgs = AccountFilter
"""The filter options as typed on the command line (shared with the API)."""


def read_refs(refs: list[str] | None, ids_from: str | None) -> list[str]:
    """The refs from the arguments followed by those in ``--ids-from`` (blank lines skipped)."""
    found = [r.strip() for r in refs or [] if r.strip()]
    if ids_from is None:
        return found
    if ids_from == "-":
        text = typer.get_text_stream("stdin").read()
    else:
        try:
            text = Path(ids_from).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InvalidInput(f"--ids-from {ids_from}: {exc.strerror or exc}") from None
    found.extend(line.strip() for line in text.splitlines() if line.strip())
    return found
