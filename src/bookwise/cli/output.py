"""Output: Rich tables for people, CSV and JSON (``{"items": [...], "total": N}``) for tools."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bookwise.csvsafe import SafeCsvWriter

if TYPE_CHECKING:
    # Rich is imported when something is printed through it (csv and json output never are).
    from rich.console import Console
    from rich.text import Text

    from bookwise.assignments.schemas import OperationResult


class OutputFormat(StrEnum):
    """How a listing is printed."""

    table = "table"
    csv = "csv"
    json = "json"


class ResultFormat(StrEnum):
    """How an operation's result is printed."""

    table = "table"
    json = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="table (for people), csv or json (for tools)."),
]
ResultFormatOption = Annotated[
    ResultFormat,
    typer.Option("--format", help="table (a summary for people) or json (the full result)."),
]


@dataclass(frozen=True)
class Column:
    """A table column: the item key it shows and its header."""

    key: str
    header: str
    numeric: bool = False
    time: bool = False
    pairs: bool = False

    def text(self, item: Mapping[str, Any]) -> Text:
        """The cell for ``item``; times are shortened to minutes (UTC) for tables."""
        from rich.text import Text

        raw = item.get(self.key)
        if self.pairs and isinstance(raw, dict):
            return Text(", ".join(f"{k} {cell(v)}" for k, v in raw.items()))
        value = cell(raw)
        if self.time and len(value) >= 16:
            value = value[:16].replace("T", " ")
        return Text(value)


PIPE_WIDTH = 160


def console() -> Console:
    """A console on the current stdout (looked up per call so test runners can capture it)."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        # Rich assumes 80 columns off a terminal; a log or a pager is usually wider.
        out.width = PIPE_WIDTH
    return out


def error_console() -> Console:
    """A console on the current stderr."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def say(text: str) -> None:
    """Print one plain line for people (no Rich markup is interpreted)."""
    console().print(text, markup=False, soft_wrap=True)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def cell(value: Any) -> str:
    """A value as text in a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def emit_listing(
    fmt: OutputFormat,
    *,
    items: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    total: int | None,
    paging: Mapping[str, Any] | None = None,
    title: str | None = None,
    footer: str | None = None,
) -> None:
    """Print a listing as a table, as CSV (every item key), or as ``{"items", "total", …}``."""
    if fmt is OutputFormat.json:
        echo_json({"items": list(items), "total": total, **(paging or {})})
        return
    if fmt is OutputFormat.csv:
        emit_csv(items, keys=[c.key for c in columns])
        return
    emit_table(items, columns=columns, title=title)
    if footer:
        say(footer)


def emit_csv(items: Sequence[Mapping[str, Any]], *, keys: Sequence[str]) -> None:
    """Write the items as CSV to stdout: every key of the first item, else ``keys``.

    Formula-safe as ``export`` is (:mod:`bookwise.csvsafe`): a text cell a spreadsheet would
    run gets a ``'`` in front. Numbers stay numbers; lists and objects are written as text.
    """
    header = list(items[0].keys()) if items else list(keys)
    writer = SafeCsvWriter(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    for item in items:
        writer.writerow([_csv_value(item.get(key)) for key in header])


def _csv_value(value: Any) -> Any:
    # Scalars keep their type (so numbers are not treated as text); the rest as in a table.
    return cell(value) if isinstance(value, list | tuple | dict) else value


def emit_table(
    items: Sequence[Mapping[str, Any]], *, columns: Sequence[Column], title: str | None = None
) -> None:
    """Print the items as a Rich table."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column.header, justify="right" if column.numeric else "left")
    for item in items:
        table.add_row(*(c.text(item) for c in columns))
    console().print(table)


def paging_footer(shown: int, total: int | None, offset: int) -> str:
    """``showing 1–50 of 200`` (or ``no accounts``)."""
    if shown == 0:
        return "nothing matches" if not offset else f"nothing at offset {offset}"
    end = offset + shown
    of = f" of {total:,}" if total is not None else ""
    return f"showing {offset + 1:,}–{end:,}{of}"


# --- operation results -------------------------------------------------------------------


def emit_result(result: OperationResult, fmt: ResultFormat, *, fingerprint_hint: bool) -> None:
    """Print what an operation did (or would do): counts, per-id outcomes, sample, fingerprint."""
    if fmt is ResultFormat.json:
        echo_json(result.model_dump(mode="json"))
        return
    idle_preview = result.dry_run and changes_nothing(result)
    say(_headline(result))
    if not idle_preview:
        say(_figures(result))
    if result.counts:
        say("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.counts.items())))
    for message in result.messages:
        say(f"note: {message}")
    if result.items:
        emit_table(
            [
                {
                    "n": i + 1,
                    **item.model_dump(),
                    "outcome": f"{item.outcome} (follows parent)"
                    if item.follows_parent
                    else item.outcome,
                }
                for i, item in enumerate(result.items)
            ],
            columns=[
                Column("n", "#", numeric=True),
                Column("ref", "requested"),
                Column("account_id", "account", numeric=True),
                Column("user", "csm"),
                Column("outcome", "outcome"),
            ],
            title="per requested id, in request order",
        )
    if result.sample:
        emit_table(
            [row.model_dump() for row in result.sample],
            columns=[
                Column("account_id", "id", numeric=True),
                Column("external_id", "external id"),
                Column("name", "account"),
                Column("action", "change"),
                Column("user", "user"),
                Column("role", "role"),
                Column("source", "source"),
            ],
            title=f"changes (first {len(result.sample)})",
        )
    if idle_preview:
        # No fingerprint: applying this preview would change nothing, so there is nothing to
        # apply with it.
        say("dry run: nothing was written, and nothing would change")
        return
    say(f"fingerprint: {result.fingerprint}")
    if result.dry_run:
        hint = f" (apply with --fingerprint {result.fingerprint})" if fingerprint_hint else ""
        say(f"dry run: nothing was written{hint}")


def changes_nothing(result: OperationResult) -> bool:
    """Whether the operation changes (or its preview would change) no owner and no policy."""
    return not (
        result.accounts_changed
        or result.opened
        or result.closed
        or result.inherited_opened
        or result.inherited_closed
        or result.policies_changed
    )


def _headline(result: OperationResult) -> str:
    if result.dry_run:
        return f"{result.kind}: preview" + (
            ": nothing would change" if changes_nothing(result) else ""
        )
    if result.operation_id is None:
        return f"{result.kind}: nothing to change"
    return f"{result.kind}: operation #{result.operation_id}"


def _figures(result: OperationResult) -> str:
    parts = [
        f"accounts changed {result.accounts_changed:,}",
        f"opened {result.opened:,}",
        f"closed {result.closed:,}",
        f"inherited opened {result.inherited_opened:,}",
        f"inherited closed {result.inherited_closed:,}",
    ]
    if result.policies_changed:
        parts.append(f"policies changed {result.policies_changed:,}")
    return " · ".join(parts)
