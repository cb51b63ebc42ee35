"""What an import reports: the mapping it used, the counts, and the problems by line."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bookwise.csvsafe import SafeCsvWriter
from bookwise.importing.values import Problem

SCREEN_ERRORS = 20
ERROR_COLUMNS = ("line", "column", "value", "reason")
NO_OWNER_COLUMN = "owners unchanged: no owner column"


@dataclass
class ImportReport:
    """The outcome of one import; ``created + updated + unchanged + failed == rows_read``."""

    path: str
    encoding: str
    delimiter: str
    mapping: list[tuple[str, str]]
    ignored: list[str]
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[Problem] = field(default_factory=list)
    error_file: str | None = None
    written: bool = False
    dry_run: bool = False
    operation_id: int | None = None
    owner_counts: dict[str, int] = field(default_factory=dict)
    error_count: int = 0
    # None for a users file (no owners); otherwise whether some column names owners.
    has_owner_column: bool | None = None
    ignored_owner_columns: list[str] = field(default_factory=list)

    @property
    def owner_warnings(self) -> list[str]:
        """What a person must not miss about owners: none were read, or a column was left."""
        hints = [
            f"{c} was ignored but looks like owners: to import them, map it "
            f"with {c}=csms (emails or names) or {c}=owner_ids (user ids)"
            for c in self.ignored_owner_columns
        ]
        if self.has_owner_column is False:
            return [NO_OWNER_COLUMN, *hints]
        return hints

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "file": self.path,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "mapping": [{"column": c, "field": f} for c, f in self.mapping],
            "ignored_columns": self.ignored,
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "written": self.written,
            "dry_run": self.dry_run,
            "operation_id": self.operation_id,
            "owners": self.owner_counts,
            "has_owner_column": self.has_owner_column,
            "ignored_owner_columns": self.ignored_owner_columns,
            "warnings": self.owner_warnings,
            "error_file": self.error_file,
            "errors": [e.__dict__ for e in self.errors],
        }


def default_error_path(path: Path) -> Path:
    """``<input>.errors.csv`` next to the input."""
    return path.with_name(path.name + ".errors.csv")


class ErrorSink:
    """Streams every problem to a CSV file (formula-safe, every cell), keeps the first few."""

    def __init__(self, stream: TextIO | None, *, keep: int = SCREEN_ERRORS) -> None:
        self.keep = keep
        self.writer = SafeCsvWriter(stream) if stream is not None else None
        if self.writer is not None:
            self.writer.writerow(ERROR_COLUMNS)
        self.first: list[Problem] = []
        self.count = 0

    def add_all(self, problems: Iterator[Problem]) -> None:
        """Write each problem; keep the first few for the screen."""
        for problem in problems:
            self.count += 1
            if len(self.first) < self.keep:
                self.first.append(problem)
            if self.writer is not None:
                self.writer.writerow((problem.line, problem.column, problem.value, problem.reason))
