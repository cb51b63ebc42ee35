"""``import_accounts``: stream a CSV into staging tables, then merge it set-based."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from bookwise.accounts.service import list_attributes, serialise_hierarchy_changes
from bookwise.assignments.inheritance import apply_inheritance
from bookwise.assignments.plan import database_now
from bookwise.assignments.replace import replace_owners
from bookwise.config import get_settings
from bookwise.db import bulk_load_settings
from bookwise.importing import merge, owners
from bookwise.importing.mapping import PARENT, map_headers
from bookwise.importing.merge import Merge
from bookwise.importing.reading import CsvSource, Record, check_encoding, open_csv
from bookwise.importing.report import SCREEN_ERRORS, ErrorSink, ImportReport
from bookwise.importing.staging import clear_staging, row_parser, stage_batch, table_of
from bookwise.importing.values import ParsedRow, Problem, ValueRules, check_date_format
from bookwise.models import ImportProblem, ImportRow, User

BATCH_SIZE = 5_000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportOptions:
    """How to read the file and what to do with bad rows."""

    encoding: str | None = None
    date_format: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    all_or_nothing: bool = False
    dry_run: bool = False
    batch_size: int = BATCH_SIZE
    keep_errors: int = SCREEN_ERRORS

    def __post_init__(self) -> None:
        """A bad encoding or date format is refused before the file is opened."""
        if self.encoding:
            check_encoding(self.encoding)
        if self.date_format:
            check_date_format(self.date_format)


def import_accounts(
    session: Session,
    *,
    path: Path,
    actor: User,
    options: ImportOptions | None = None,
    errors: TextIO | None = None,
    progress: Progress | None = None,
    stream: BinaryIO | None = None,
) -> ImportReport:
    """Upsert accounts by external id from a CSV file; bad rows are reported, good ones kept.

    Writes nothing for ``dry_run``, or when ``all_or_nothing`` and any row failed. Every
    problem is streamed to ``errors`` as CSV (line, column, value, reason). ``stream`` is the
    file already open (an upload, read where it is: never copied); ``path`` then names it.
    """
    options = options or ImportOptions()
    source = open_csv(path, encoding=options.encoding, stream=stream)
    attributes = {d.name: d for d in list_attributes(session)}
    mapping = map_headers(source.header, declared=attributes, overrides=options.overrides)
    report = ImportReport(
        path=str(path),
        encoding=source.encoding,
        delimiter=source.delimiter,
        mapping=[(c.header, c.target) for c in mapping.columns],
        ignored=mapping.ignored,
        dry_run=options.dry_run,
        has_owner_column=mapping.has_owners,
        ignored_owner_columns=mapping.ignored_owner_columns,
    )
    rules = ValueRules(options.date_format, attributes, source.exported)
    m = Merge(session, secrets.randbelow(2**31 - 2) + 1, mapping, actor, database_now(session))
    # A small SQLite page cache (a big one is what made a million-row import's memory
    # grow) and no PostgreSQL JIT (docs/import-export.md).
    with bulk_load_settings(session, sqlite_cache_mib=get_settings().sqlite_import_cache_mib):
        savepoint = session.begin_nested()
        try:
            failed_reading = _stage_file(m, source, rules, options, report, progress)
            _merge(m, report)
            outcome = merge.counts(m)
            report.created, report.updated = outcome["created"], outcome["updated"]
            report.unchanged = outcome["unchanged"]
            report.failed = outcome["failed"] + failed_reading
            sink = ErrorSink(errors, keep=options.keep_errors)
            sink.add_all(_problems(m))
            report.errors, report.error_count = sink.first, sink.count
            clear_staging(session, m.import_id)
        except BaseException:
            savepoint.rollback()
            raise
        report.written = not options.dry_run and not (options.all_or_nothing and report.failed)
        if report.written:
            savepoint.commit()
        else:
            savepoint.rollback()
            report.operation_id = None
    return report


def _stage_file(
    m: Merge,
    source: CsvSource,
    rules: ValueRules,
    options: ImportOptions,
    report: ImportReport,
    progress: Progress | None,
) -> int:
    """Read, check and stage the file batch by batch; return how many rows failed here."""
    failed = 0
    seq = 0
    parser = row_parser(m.mapping, rules, import_id=m.import_id)
    for batch in _batches(source, options.batch_size):
        good: list[ParsedRow] = []
        problems: list[Problem] = []
        for record in batch:
            parsed = parser.parse(record)
            if isinstance(parsed, ParsedRow):
                good.append(parsed)
            else:
                failed += 1
                problems.extend(parsed)
        stage_batch(m.session, import_id=m.import_id, rows=good, problems=problems, first_seq=seq)
        seq += len(problems)
        report.rows_read += len(batch)
        if progress is not None:
            progress(report.rows_read)
    return failed


def _batches(source: CsvSource, size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in source.records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _merge(m: Merge, report: ImportReport) -> None:
    """The fixed sequence of set-based statements (see ``merge``)."""
    if m.mapping.has(PARENT):
        serialise_hierarchy_changes(m.session)
    merge.analyse_staging(m)
    merge.refuse_repeats(m)
    merge.resolve_accounts(m)
    has_owners = m.mapping.has_owners
    if has_owners:
        owners.resolve_owners(m)
    merge.require_names(m)
    merge.classify(m)
    if m.mapping.has(PARENT):
        merge.check_parents(m)
    merge.insert_new(m)
    merge.analyse_accounts(m)
    merge.update_existing(m)
    if m.mapping.has(PARENT):
        merge.move_accounts(m)
    # The rows are locked now (update_existing, move_accounts): an edit that committed while
    # the file was staged is before this instant, so the history it wrote closes after it
    # started (as plan._advance_clock does for ownership).
    m.now = max(m.now, database_now(m.session))
    merge.record_values(m)
    merge.record_audit(m)
    if has_owners:
        result = replace_owners(
            m.session,
            accounts=owners.owned_accounts(m),
            wanted=owners.wanted_owners(m),
            actor=m.actor,
            parameters={"file": Path(report.path).name},
            reason=f"import of {Path(report.path).name}",
        )
        report.operation_id = result.operation_id
        report.owner_counts = dict(result.counts)
        if result.operation_id is not None:
            owners.mark_owner_changes(m, result.operation_id)
    if m.mapping.has(PARENT) or m.mapping.has("inherit_policy"):
        apply_inheritance(
            m.session, roots=merge.inheritance_roots(m), actor=m.actor, scope="imported accounts"
        )


def _problems(m: Merge) -> Iterator[Problem]:
    """Every problem of the import by line: found while reading, then by the merge."""
    problems = table_of(ImportProblem)
    rows = table_of(ImportRow)
    query = union_all(
        select(
            problems.c.line, problems.c.column, problems.c.value, problems.c.reason, problems.c.seq
        ).where(problems.c.import_id == m.import_id),
        select(
            rows.c.line, rows.c.error_column, rows.c.error_value, rows.c.error_reason, literal(0)
        ).where(rows.c.import_id == m.import_id, rows.c.failed.is_(True)),
    )
    ordered = query.order_by("line", "seq")
    result = m.session.execute(ordered, execution_options={"yield_per": 1000})
    for line, column, value, reason, _seq in result:
        yield Problem(int(line), str(column), str(value or ""), str(reason))
