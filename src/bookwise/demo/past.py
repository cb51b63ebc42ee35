"""The demo's last twelve months of values: health trends, MRR growth, lifecycle progression.

Set-based: one ``INSERT … SELECT`` per field, joining the accounts to a numbers CTE (one row
per change), so the statement count does not grow with the accounts. Every draw is an
integer hash of (seed, account id, change number, purpose): the same seed gives the same
rows on every database, with no random state and no Python per account.

Each account's chain of a field is built whole: row 0 holds the oldest value from the
account's creation, row k (1..K) starts at the k-th change, and row K is the open row, whose
value is the account's current one. The change times fall one per equal slot of the past
year (slot k-1 of K, at a hashed minute inside it), so they increase without sorting, and a
row's end, its successor's start and its successor's ``previous`` are all closed-form in k:
no window function, no second pass. Only accounts created before the year began get a past
(the others' history starts at their creation, as before).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from bookwise.db import is_sqlite
from bookwise.demo.shape import STAGES as STAGE_ORDER

PAST_DAYS = 365
HASH_PRIME = 4_294_967_291  # the largest prime below 2**32
HASH_FACTOR = 2_654_435_761  # Knuth's multiplicative hash (keys stay below 2**31)
SECOND_FACTOR = 40_503  # a second round small enough that (< 2**32) * it fits 64 bits
MAX_CHANGES = 10  # health: 4, 6, 8 or 10 changes a year (even, see health_path)


def _hash(key: str, salt: int, seed: int) -> str:
    """SQL: a deterministic pseudo-random non-negative integer from ``key`` (an integer)."""
    mixed = f"(({key}) * {HASH_FACTOR} + {salt * 7919 + seed % 1_000_003}) % {HASH_PRIME}"
    return f"(({mixed}) * {SECOND_FACTOR} % {HASH_PRIME})"


def _per_change(k: str, salt: int, seed: int) -> str:
    """SQL: a hash of (account, change number ``k``)."""
    return _hash(f"a.id * 16 + {k}", salt, seed)


def _moment(minutes: str, sqlite: bool) -> str:
    """SQL: the start of the past year plus ``minutes``, in the column's stored form."""
    if sqlite:
        shifted = f"'+' || ({minutes}) || ' minutes'"
        return f"strftime('%Y-%m-%d %H:%M:%S', :start, {shifted}) || '.000000'"
    return f"(CAST(:start AS timestamp) + ({minutes}) * interval '1 minute')"


def _change_time(k: str, salt: int, seed: int, sqlite: bool) -> str:
    """SQL: when change ``k`` (1..K) happened: a hashed minute in slot k-1 of K."""
    slot = "(:minutes / a.changes)"
    return _moment(f"({k} - 1) * {slot} + {_per_change(k, salt, seed)} % {slot}", sqlite)


def health_value(k: str, seed: int) -> str:
    """SQL: health after change ``k``: the current value plus a trend of 2 a change and a
    noise of -2, 0 or 2 plus the parity of k. Consecutive offsets then differ by an odd
    number (never 0, so every row is a change) and are at least 1 before the last (K even),
    and at most 2K + 2 = 22 (K ≤ 10), so the direction below keeps them inside 0..100."""
    noise = f"2 * ({_per_change(k, 3, seed)} % 3 - 1) + {k} % 2"
    offset = f"(CASE WHEN {k} = a.changes THEN 0 ELSE 2 * (a.changes - {k}) + {noise} END)"
    return f"(a.current + a.direction * {offset})"


def mrr_value(k: str) -> str:
    """SQL: MRR after change ``k``: a step of 4–15 % of today's MRR per change."""
    return f"(a.current - a.direction * (a.changes - {k}) * a.step)"


def stage_value(k: str) -> str:
    """SQL: the lifecycle stage after change ``k`` (0: the first stage)."""
    whens = " ".join(f"WHEN {i} THEN '{stage}'" for i, stage in enumerate(STAGE_ORDER))
    return f"(CASE {k} {whens} END)"


def _insert_chain(
    session: Session,
    *,
    field: str,
    accounts: str,
    value: str,
    previous: str,
    salt: int,
    seed: int,
    parameters: dict[str, object],
) -> None:
    """One field's past for every account ``accounts`` selects (columns id, created_at,
    current, changes ≥ 1 and whatever ``value`` reads), in one statement."""
    sqlite = is_sqlite(session)
    begins = _change_time("n.k", salt, seed, sqlite)
    ends = _change_time("n.k + 1", salt, seed, sqlite)
    start = ":start" if sqlite else "CAST(:start AS timestamp)"
    sql = f"""
    WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < {MAX_CHANGES}),
    a AS ({accounts} AND created_at < {start})
    INSERT INTO account_values
        (account_id, field, value, previous, valid_from, valid_to, source, actor_id,
         operation_id)
    SELECT a.id, '{field}', CAST({value} AS VARCHAR(50)),
        CASE WHEN n.k = 0 THEN NULL ELSE CAST({previous} AS VARCHAR(50)) END,
        CASE WHEN n.k = 0 THEN a.created_at ELSE {begins} END,
        CASE WHEN n.k = a.changes THEN NULL ELSE {ends} END,
        'demo', :actor_id, :operation_id
    FROM a JOIN n ON n.k <= a.changes
    """
    session.execute(text(sql), parameters)


def past_start(today: date) -> datetime:
    """When the demo's past begins: the year that ended at midnight UTC the day before
    ``today`` (a day early, so no local clock puts it in the future). From the date, not the
    clock, so the same seed and day give the same rows."""
    return datetime.combine(today, time(), UTC) - timedelta(days=PAST_DAYS + 1)


def write_value_past(
    session: Session, *, seed: int, today: date, actor_id: int, operation_id: int
) -> None:
    """Write a year of health, MRR and lifecycle changes ending in today's values (three
    statements). Call before the current values are recorded: those fields are then done."""
    start = past_start(today)
    parameters: dict[str, object] = {
        "start": start.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "minutes": PAST_DAYS * 1440,
        "actor_id": actor_id,
        "operation_id": operation_id,
    }

    def h(purpose: int) -> str:
        """SQL: a per-account draw."""
        return _hash("id", purpose, seed)

    # Health: 4–10 changes; low scores declined to here, high ones rose, a mid score
    # declined with 30 % probability.
    _insert_chain(
        session,
        field="health_score",
        accounts=f"""SELECT id, created_at, health_score AS current,
            4 + 2 * ({h(1)} % 4) AS changes,
            CASE WHEN health_score < 40 THEN 1 WHEN health_score > 70 THEN -1
                 WHEN {h(2)} % 10 < 3 THEN 1 ELSE -1 END AS direction
            FROM accounts WHERE health_score IS NOT NULL""",
        value=health_value("n.k", seed),
        previous=health_value("(n.k - 1)", seed),
        salt=4,
        seed=seed,
        parameters=parameters,
    )
    # MRR: a quarter of the accounts unchanged all year, the others 1–3 changes; one in
    # twelve of those were downgrades (the MRR was higher), the rest growth.
    _insert_chain(
        session,
        field="mrr",
        accounts=f"""SELECT * FROM (SELECT id, created_at, mrr AS current,
            {h(5)} % 4 AS changes, mrr * (4 + {h(6)} % 12) / 100 AS step,
            CASE WHEN {h(7)} % 12 = 0 THEN -1 ELSE 1 END AS direction
            FROM accounts WHERE mrr IS NOT NULL) m WHERE changes >= 1 AND step >= 1""",
        value=mrr_value("n.k"),
        previous=mrr_value("(n.k - 1)"),
        salt=8,
        seed=seed,
        parameters=parameters,
    )
    # Lifecycle: every stage before today's, in order, one change each.
    positions = " ".join(f"WHEN '{stage}' THEN {i}" for i, stage in enumerate(STAGE_ORDER))
    _insert_chain(
        session,
        field="lifecycle_stage",
        accounts=f"""SELECT * FROM (SELECT id, created_at, lifecycle_stage AS current,
            CASE lifecycle_stage {positions} ELSE 0 END AS changes
            FROM accounts) s WHERE changes >= 1""",
        value=stage_value("n.k"),
        previous=stage_value("(n.k - 1)"),
        salt=9,
        seed=seed,
        parameters=parameters,
    )
