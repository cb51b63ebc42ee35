"""Scenario 5: export every account to CSV, and import a file of the same size.

Export: bookwise's streamed ``write_accounts_csv`` beside one hand-written query (accounts,
parent's external id, owners aggregated in SQL) written with the csv module; the two files
must be byte-identical.

Import: bookwise's ``import_accounts`` of that export (owner column left out, so both sides
load the same rows: accounts with their parents) into an empty, migrated database, beside
the floor: csv module → the same rows by ``executemany`` INSERT (SQLite) or ``COPY``
(PostgreSQL), then one UPDATE that links parents by external id, one for child counts and
one recursive UPDATE for depth, then one INSERT … SELECT of every account's first values into
the value history (``account_values``), as bookwise's import writes them. Both end with the same
accounts (compared by count, parents, and the sums of depth, MRR and child counts) and the same
history rows (compared by count per kind and sums over ids and values).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.context import Target
from bench.floor import FloorConnection
from bench.harness import Pair, peak_rss_mib, timed
from bookwise.csvsafe import EXPORT_MARKER
from bookwise.db import make_engine, write_session
from bookwise.demo.generator import storage_timestamp
from bookwise.exporting.accounts import ACCOUNT_FIELDS, write_accounts_csv
from bookwise.importing.accounts import ImportOptions, import_accounts
from bookwise.migrate import upgrade_database
from bookwise.models import VALUE_HISTORY_FIELDS, utcnow
from bookwise.users.service import CLI_USER_EMAIL, cli_user

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "'")
COLUMNS = [field.name for field in ACCOUNT_FIELDS if field.name != "csms"]


def sha256(path: Path) -> str:
    """The file's digest."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _text(value: Any) -> str:
    if value is None:
        return ""
    value = str(value)
    return "'" + value if value.startswith(DANGEROUS) else value


def _money(minor: Any) -> str:
    return "" if minor is None else str(Decimal(int(minor)).scaleb(-2))


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def floor_export(floor: FloorConnection, path: Path) -> int:
    """Every account with its parent's external id and owners, in name order, as CSV."""
    owners = (
        "(SELECT group_concat(email, ';') FROM (SELECT u.email FROM assignments a JOIN users u "
        "ON u.id = a.user_id WHERE a.account_id = c.id AND a.role = 'csm' "
        "AND a.ended_at IS NULL ORDER BY a.started_at, a.id))"
        if floor.sqlite
        else "(SELECT string_agg(u.email, ';' ORDER BY a.started_at, a.id) FROM assignments a "
        "JOIN users u ON u.id = a.user_id WHERE a.account_id = c.id AND a.role = 'csm' "
        "AND a.ended_at IS NULL)"
    )
    sql = (
        "SELECT c.external_id, c.name, p.external_id, c.domain, c.mrr, c.health_score, c.tier, "
        "c.lifecycle_stage, c.nps, c.csm_rating, c.region, c.renewal_date, c.inherit_policy, "
        f"{owners} FROM accounts c LEFT JOIN accounts p ON p.id = c.parent_id "
        "ORDER BY c.name_fold, c.id"
    )
    cursor = floor.raw.cursor() if floor.sqlite else floor.raw.cursor(name="bench_export")
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(EXPORT_MARKER + "\r\n")
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([*COLUMNS, "csms"])
        cursor.execute(sql)
        while batch := cursor.fetchmany(5000):
            for r in batch:
                writer.writerow(
                    [
                        _text(r[0]),
                        _text(r[1]),
                        _text(r[2]),
                        _text(r[3]),
                        _money(r[4]),
                        _plain(r[5]),
                        _plain(r[6]),
                        _text(r[7]),
                        _plain(r[8]),
                        _plain(r[9]),
                        _text(r[10]),
                        _plain(r[11]),
                        _text(r[12]),
                        _text(r[13]),
                    ]
                )
            rows += len(batch)
    cursor.close()
    if not floor.sqlite:
        floor.raw.rollback()
    return rows


class Scratch:
    """Empty, migrated databases to import into (a SQLite file, or a PostgreSQL database)."""

    def __init__(self, t: Target, folder: Path) -> None:
        self.t = t
        self.folder = folder
        self.count = 0

    def fresh(self) -> str:
        """The URL of a new, empty, migrated database."""
        self.count += 1
        if self.t.floor.sqlite:
            url = f"sqlite:///{self.folder / f'import-{self.count}.db'}"
        else:
            name = f"bw_bench_import_{self.count % 2}"
            admin = FloorConnection(self.t.url)
            admin.raw.autocommit = True
            admin.raw.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.raw.execute(f"CREATE DATABASE {name}")
            admin.close()
            url = make_url(self.t.url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade_database(engine)
        engine.dispose()
        return url

    def drop(self, url: str) -> None:
        """Remove a SQLite file (PostgreSQL databases are dropped when reused)."""
        if self.t.floor.sqlite:
            database = make_url(url).database
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)


def import_file(export: Path, target: Path) -> int:
    """The export without its owners column: the rows both import sides load."""
    rows = 0
    with (
        export.open(encoding="utf-8", newline="") as source,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        out.write(source.readline())  # the export marker: import restores quoted cells
        reader = csv.reader(source)
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        for record in reader:
            writer.writerow(record[:-1])
            rows += 1
    return rows - 1


def _unquote(value: str) -> str:
    return value[1:] if value.startswith("'") else value


IMPORTED = (
    "external_id", "name", "name_fold", "domain", "mrr", "health_score", "tier",
    "lifecycle_stage", "nps", "csm_rating", "region", "renewal_date", "inherit_policy",
    "created_at", "depth", "ownership_version", "custom",
)  # fmt: skip


def _account_row(r: list[str], now: Any) -> tuple[Any, ...]:
    name = _unquote(r[1])
    return (
        r[0],
        name,
        name.lower(),
        r[3] or None,
        int(Decimal(r[4]).scaleb(2)) if r[4] else None,
        int(r[5]) if r[5] else None,
        int(r[6]) if r[6] else None,
        r[7] or None,
        int(r[8]) if r[8] else None,
        int(r[9]) if r[9] else None,
        r[10] or None,
        r[11] or None,
        r[12] or None,
        now,
        0,
        0,
        "{}",
    )


def floor_import(url: str, path: Path) -> None:
    """csv → the rows written the plainest fast way (``executemany`` on SQLite, ``COPY`` on
    PostgreSQL) → link parents → child counts → depth."""
    floor = FloorConnection(url)
    now: Any = storage_timestamp(utcnow()) if floor.sqlite else utcnow()
    columns = ", ".join(IMPORTED)
    try:
        with floor.transaction() as run:
            if not floor.sqlite:
                run("SET LOCAL jit = off")  # as bookwise's import runs (bulk_load_settings)
            cursor = run(
                "CREATE TEMP TABLE f_parent (external_id VARCHAR(100) PRIMARY KEY, "
                "parent VARCHAR(100) NOT NULL)"
            )
            for batch in _records(path):
                rows = [_account_row(r, now) for r in batch]
                parents = [(r[0], r[2]) for r in batch if r[2]]
                if floor.sqlite:
                    marks = ", ".join("?" * len(IMPORTED))
                    cursor.executemany(f"INSERT INTO accounts ({columns}) VALUES ({marks})", rows)
                    cursor.executemany("INSERT INTO f_parent VALUES (?, ?)", parents)
                    continue
                # One COPY per batch: a row-at-a-time INSERT would also fire the account
                # counter's statement trigger once per row, which no one would write by hand.
                with cursor.copy(f"COPY accounts ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                with cursor.copy("COPY f_parent FROM STDIN") as copy:
                    for row in parents:
                        copy.write_row(row)
            run(
                "UPDATE accounts SET parent_id = (SELECT p.id FROM f_parent f JOIN accounts p "
                "ON p.external_id = f.parent WHERE f.external_id = accounts.external_id) "
                "WHERE external_id IN (SELECT external_id FROM f_parent)"
            )
            run(
                "UPDATE accounts SET child_count = (SELECT count(*) FROM accounts c "
                "WHERE c.parent_id = accounts.id) "
                "WHERE id IN (SELECT parent_id FROM accounts WHERE parent_id IS NOT NULL)"
            )
            run("CREATE TEMP TABLE f_depth (id INTEGER PRIMARY KEY, depth INTEGER NOT NULL)")
            run(
                "INSERT INTO f_depth (id, depth) WITH RECURSIVE t(id, depth) AS (SELECT id, 0 "
                "FROM accounts WHERE parent_id IS NULL UNION ALL SELECT a.id, t.depth + 1 "
                "FROM accounts a JOIN t ON a.parent_id = t.id) SELECT id, depth FROM t "
                "WHERE depth > 0"
            )
            run(
                "UPDATE accounts SET depth = (SELECT depth FROM f_depth WHERE f_depth.id = "
                "accounts.id) WHERE id IN (SELECT id FROM f_depth)"
            )
            run("DROP TABLE f_depth")
            run("DROP TABLE f_parent")
            actor = run("SELECT id FROM users WHERE email = :e", {"e": CLI_USER_EMAIL})
            run(first_values_sql(floor.sqlite), {"now": now, "actor": actor.fetchone()[0]})
    finally:
        floor.close()


def first_values_sql(sqlite: bool) -> str:
    """The history's first rows, as a hand-writer would: every account beside the nine
    field names (account by account: on SQLite, a SELECT per field was slower, its rows
    landing field by field across the account index), each value as the text the history
    stores (a date as ``YYYY-MM-DD``), from the import's instant, by the CLI user (as
    bookwise's import is; PostgreSQL checks that foreign key row by row), with no previous
    value."""
    names = " UNION ALL ".join(f"SELECT '{field}' AS field" for field in VALUE_HISTORY_FIELDS)
    values = []
    for field in VALUE_HISTORY_FIELDS:
        if field == "renewal_date" and not sqlite:
            value = "to_char(a.renewal_date, 'YYYY-MM-DD')"
        elif field in ("lifecycle_stage", "region", "renewal_date"):
            value = f"a.{field}"
        else:
            value = f"CAST(a.{field} AS TEXT)"
        values.append(f"WHEN '{field}' THEN {value}")
    return (
        "INSERT INTO account_values (account_id, field, value, valid_from, source, actor_id, "
        "import_id) SELECT id, field, value, :now, 'import', :actor, 1 FROM (SELECT a.id, f.field, "
        f"CASE f.field {' '.join(values)} END AS value "
        f"FROM accounts a CROSS JOIN ({names}) f) v WHERE value IS NOT NULL"
    )


def _records(path: Path, size: int = 5000) -> Iterator[list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as source:
        source.readline()
        reader = csv.reader(source)
        next(reader)
        batch: list[list[str]] = []
        for record in reader:
            batch.append(record)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


def loaded(url: str) -> tuple[Any, ...]:
    """What an import left: accounts, with a parent, sums of depths, MRR and child counts
    (and of their squares, so that counts moved between parents show); history rows, open,
    with a previous value, from the import, sums over their fields and values tied to their
    accounts' external ids, and parent rows that hold the account's parent."""
    floor = FloorConnection(url)
    try:
        row = floor.rows(
            "SELECT count(*), count(parent_id), coalesce(sum(depth), 0), "
            "coalesce(sum(mrr), 0), coalesce(sum(child_count), 0), "
            "coalesce(sum(child_count * child_count), 0), "
            "(SELECT count(*) FROM account_values), "
            "(SELECT count(*) FROM account_values WHERE valid_to IS NULL), "
            "(SELECT count(previous) FROM account_values), "
            "(SELECT count(*) FROM account_values WHERE source = 'import'), "
            "(SELECT count(actor_id) FROM account_values), "
            "(SELECT coalesce(sum(length(field)), 0) FROM account_values), "
            # By external id: PostgreSQL's two sides number new accounts in different orders.
            "(SELECT coalesce(sum(length(a.external_id) * length(v.field || v.value)), 0) "
            "FROM account_values v JOIN accounts a ON a.id = v.account_id "
            "WHERE v.field <> 'parent_id'), "
            "(SELECT count(*) FROM account_values v JOIN accounts a ON a.id = v.account_id "
            "WHERE v.field = 'parent_id' AND v.value = CAST(a.parent_id AS TEXT)) FROM accounts"
        )[0]
        return tuple(int(value) for value in row)  # PostgreSQL's sums are Decimals
    finally:
        floor.close()


def file_pairs(t: Target, folder: Path | None = None) -> list[Pair]:
    """Scenario 5: export all accounts; import a file of as many rows into an empty database."""
    work = Path(folder or tempfile.mkdtemp(prefix="bookwise-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ours_csv, floor_csv, rows_csv = work / "bookwise.csv", work / "floor.csv", work / "rows.csv"

    def export_ours() -> tuple[int, str]:
        with t.reading() as session, ours_csv.open("w", encoding="utf-8", newline="") as out:
            count = write_accounts_csv(session, out)
        return count, sha256(ours_csv)

    def export_floor() -> tuple[int, str]:
        return floor_export(t.floor, floor_csv), sha256(floor_csv)

    scratch = Scratch(t, work)
    target: list[str] = []

    def prepare() -> None:
        if not rows_csv.exists():
            import_file(ours_csv, rows_csv)
        target[:] = [scratch.fresh()]

    def import_ours() -> dict[str, Any]:
        return in_child("bookwise", target[0], rows_csv)

    def import_floor() -> dict[str, Any]:
        return in_child("floor", target[0], rows_csv)

    def cleanup() -> None:
        scratch.drop(target[0])

    return [
        Pair(
            "5a export every account",
            "export",
            export_ours,
            export_floor,
            rows=lambda result: int(result[0]),
        ),
        Pair(
            "5b import as many rows into an empty database",
            "import",
            import_ours,
            import_floor,
            setup=prepare,
            restore=cleanup,
            rows=lambda result: int(result["answer"][0]),
            child=True,
        ),
    ]


def import_ours_here(url: str, path: Path) -> None:
    """bookwise's import of ``path`` into ``url`` (run in the child process)."""
    engine = make_engine(url)
    with write_session(engine) as session:
        report = import_accounts(
            session, path=path, actor=cli_user(session), options=ImportOptions()
        )
    engine.dispose()
    assert report.failed == 0, report.errors


def in_child(side: str, url: str, path: Path) -> dict[str, Any]:
    """Run one side's import in a fresh process (so its peak RSS is the import's alone)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.files", side, url, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {side} import failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def child_main(argv: list[str]) -> int:
    """``python -m bench.files bookwise|floor URL PATH``: import, then print JSON figures."""
    side, url, path = argv[0], argv[1], Path(argv[2])
    elapsed, _ = timed(
        lambda: import_ours_here(url, path) if side == "bookwise" else floor_import(url, path)
    )
    print(
        json.dumps({"ms": elapsed, "peak_rss_mib": round(peak_rss_mib(), 1), "answer": loaded(url)})
    )
    return 0


def remove(folder: Path) -> None:
    """Delete the scenario's files."""
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
