"""Scenario 8: demo data generation, beside a plain copy of the same rows.

bookwise's side is ``generate_demo`` (the ``bookwise demo`` command) into an empty, migrated
database. The floor writes exactly the rows it produced into another empty, migrated
database the fastest plain way: ``INSERT … SELECT`` from the attached file on SQLite, ``COPY``
out and ``COPY`` in on PostgreSQL — no Python per row at all, so the ratio shows what
generating the data (names, hierarchy, owners, history) costs over just storing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench.floor import FloorConnection
from bench.harness import Measurement, peak_rss_mib, reset_peak_rss, timed
from bookwise.db import make_engine
from bookwise.demo import generate_demo
from bookwise.migrate import upgrade_database

# Parents before children: the copy keeps foreign keys on. The value history too, so the
# floor writes every row bookwise wrote (the demo's past year included).
TABLES = ("users", "operations", "accounts", "assignments", "ownership_changes", "account_values")


def empty_database(url: str) -> str:
    """Create (or recreate) an empty database at ``url`` and migrate it; return the URL."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
    else:
        admin = FloorConnection(parsed.set(database="postgres").render_as_string(False))
        admin.raw.autocommit = True
        admin.raw.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        admin.raw.execute(f'CREATE DATABASE "{parsed.database}"')
        admin.close()
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    return url


def has_data(url: str, accounts: int) -> bool:
    """True when ``url`` holds a migrated database with ``accounts`` accounts (an earlier
    run's data, which every write scenario restores as it found it)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and not Path(str(parsed.database)).exists():
        return False
    try:
        engine = make_engine(url)
        upgrade_database(engine)  # a no-op at head; a newer migration is applied
        engine.dispose()
    except SQLAlchemyError:  # e.g. no such PostgreSQL database
        return False
    floor = FloorConnection(url)
    try:
        return int(floor.value("SELECT count(*) FROM accounts")) == accounts
    finally:
        floor.close()


def generate(url: str, accounts: int) -> Measurement:
    """Time ``generate_demo`` into a fresh database at ``url`` (which keeps the data)."""
    empty_database(url)
    engine = make_engine(url)
    reset_peak_rss()
    elapsed, summary = timed(lambda: generate_demo(engine, accounts=accounts, benchmark=True))
    engine.dispose()
    return Measurement(
        scenario="8 demo data generation",
        kind="demo",
        bookwise_ms=[elapsed],
        rows=summary.accounts,
        peak_rss_mib=peak_rss_mib(),
        notes={"assignments": summary.assignments},
    )


def copy_floor(source_url: str, scratch_url: str) -> float:
    """Milliseconds to write the generated rows into an empty database by plain SQL."""
    empty_database(scratch_url)
    target = FloorConnection(scratch_url)
    try:
        if target.sqlite:
            source = make_url(source_url).database
            target.raw.execute(f"ATTACH DATABASE '{source}' AS generated")

            def copy() -> None:
                with target.transaction() as run:
                    run("DELETE FROM users")  # the migration's built-in user comes along
                    for table in TABLES:
                        run(f"INSERT INTO main.{table} SELECT * FROM generated.{table}")

            elapsed, _ = timed(copy)
            target.raw.execute("DETACH DATABASE generated")
            return elapsed
        source = FloorConnection(source_url)
        try:
            return timed(lambda: _copy_postgres(source, target))[0]
        finally:
            source.close()
    finally:
        target.close()


def _copy_postgres(source: FloorConnection, target: FloorConnection) -> None:
    with target.transaction() as run:
        run("DELETE FROM users")
        for table in TABLES:
            out: Any = source.raw.cursor()
            inn: Any = target.raw.cursor()
            with (
                out.copy(f"COPY {table} TO STDOUT (FORMAT binary)") as reader,
                inn.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as writer,
            ):
                for block in reader:
                    writer.write(block)
        source.raw.rollback()


def demo_measurement(url: str, scratch_url: str, accounts: int) -> Measurement:
    """Generate into ``url`` (timed), then time the floor's copy into ``scratch_url``."""
    measured = generate(url, accounts)
    measured.floor_ms = [copy_floor(url, scratch_url)]
    empty_database(scratch_url)  # give the space back
    return measured
