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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from bookwise.db import is_sqlite
from bookwise.demo.shape import STAGES as STAGE_ORDER
from bookwise.models import User

PAST_DAYS = 365
HASH_PRIME = 4_294_967_291  # the largest prime below 2**32
HASH_FACTOR = 2_654_435_761  # Knuth's multiplicative hash (keys stay below 2**31)
SECOND_FACTOR = 40_503  # a second round small enough that (< 2**32) * it fits 64 bits
SALT_STEP = 2_000_006  # even, so every multiplier stays odd; large, so draws do not correlate
MAX_CHANGES = 8  # health: 2, 4, 6 or 8 changes a year (even, see health_value)


def _hash(key: str, salt: int, seed: int) -> str:
    """SQL: a deterministic pseudo-random non-negative integer from ``key`` (an integer)."""
    # A multiplier of its own per purpose: draws that only differed by an offset would be
    # correlated (the same accounts would fall into the same buckets).
    mixed = f"(({key}) * {HASH_FACTOR + SALT_STEP * salt} + {seed % 1_000_003}) % {HASH_PRIME}"
    return f"(({mixed}) * {SECOND_FACTOR} % {HASH_PRIME})"


def _per_change(k: str, salt: int, seed: int) -> str:
    """SQL: a hash of (account, change number ``k``)."""
    return _hash(f"a.id * 16 + {k}", salt, seed)


def _moment(minutes: str, sqlite: bool) -> str:
    """SQL: the start of the past year plus ``minutes``, in the column's stored form."""
    if sqlite:
        # From a Julian day number: no modifier text to build and parse for every row.
        return f"strftime('%Y-%m-%d %H:%M:%S', :start_day + ({minutes}) / 1440.0) || '.000000'"
    return f"(CAST(:start AS timestamp) + ({minutes}) * interval '1 minute')"


def _change_time(k: str, salt: int, seed: int, sqlite: bool) -> str:
    """SQL: when change ``k`` (1..K) happened: a hashed minute in slot k-1 of K."""
    slot = "(:minutes / a.changes)"
    return _moment(f"({k} - 1) * {slot} + {_per_change(k, salt, seed)} % {slot}", sqlite)


def health_value(k: str, seed: int) -> str:
    """SQL: health after change ``k``: the current value plus a trend of 2 a change and a
    noise of -2, 0 or 2 plus the parity of k. Consecutive offsets then differ by an odd
    number (never 0, so every row is a change) and are at least 1 before the last (K even),
    and at most 2K + 2 = 18 (K ≤ 8), so the direction below keeps them inside 0..100."""
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
        "start": _stored(start),
        "start_day": julian_day(start),
        "minutes": PAST_DAYS * 1440,
        "actor_id": actor_id,
        "operation_id": operation_id,
    }

    def h(purpose: int) -> str:
        """SQL: a per-account draw."""
        return _hash("id", purpose, seed)

    # Health: 2–8 changes; low scores declined to here, high ones rose, a mid score
    # declined with 30 % probability.
    _insert_chain(
        session,
        field="health_score",
        accounts=f"""SELECT id, created_at, health_score AS current,
            2 + 2 * ({h(1)} % 4) AS changes,
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


# Ownership. Of the single-owner accounts created before the year began, whole families
# (decided by a hash of the top-level account, so an inheriting child moves with its
# parent) changed hands: LEAVER_SHARE from a CSM who left, REBALANCE_SHARE at one of the
# rebalances; and every account of a CSM hired during the year came to them when hired.
LEAVER_SHARE = 8  # % of families
REBALANCE_SHARE = 20  # % of families
REBALANCES = (0.15, 0.4, 0.65, 0.9)  # when, as fractions of the past year
DEPARTURE_AT = 0.5
HIRES_AT = (0.3, 0.75)
HIRE_SHARE = 0.1  # of the active CSMs (at least one)


@dataclass(frozen=True)
class Move:
    """One operation of the past year: when, what, and the reason its rows carry."""

    operation_id: int
    at: datetime
    kind: str
    reason: str


@dataclass(frozen=True)
class OwnershipPast:
    """What the ownership past wrote: rows opened before it closed them, per operation."""

    predecessors: int
    moves: dict[int, tuple[int, int, int]]  # operation -> (accounts, opened, closed)


def hire_count(csms: int) -> int:
    """How many of the active CSMs joined during the past year."""
    return max(1, round(csms * HIRE_SHARE)) if csms > 2 else 0


def write_ownership_past(
    session: Session,
    *,
    seed: int,
    today: date,
    actor_id: int,
    demo_operation_id: int,
    csm_ids: list[int],
    leaver_ids: list[int],
    new_operation: Callable[[str, datetime, dict[str, object]], int],
) -> OwnershipPast:
    """Spread the current owners' starts over the past year: hires, departures, rebalances.

    Today's owners stay as they are; what changes is when each one started and who owned
    the account before, as the ownership write path would have recorded it: a closed
    predecessor row per moved assignment (ended by the move's operation), the moved row
    started by it, and version 2 of the account. A fixed number of statements.
    """
    sqlite = is_sqlite(session)
    start = past_start(today)
    year = timedelta(days=PAST_DAYS)
    hires = csm_ids[len(csm_ids) - hire_count(len(csm_ids)) :]
    old = [u for u in csm_ids if u not in hires]
    if len(old) < 2:
        return OwnershipPast(0, {})
    named = select(User.id, User.name).where(User.id.in_([*leaver_ids, *hires]))
    names = {user_id: name for user_id, name in session.execute(named)}
    # (when, kind, reason, the user it is about, which list): created in time order, so the
    # operations' ids follow their times as in a real log.
    planned: list[tuple[datetime, str, str, int | None, str]] = [
        (start + year * f, "transfer", "rebalance", None, "rebalance") for f in REBALANCES
    ]
    planned += [
        (
            start + year * DEPARTURE_AT + timedelta(days=7 * i),
            "deactivate",
            "departure",
            u,
            "leaver",
        )
        for i, u in enumerate(leaver_ids)
    ]
    planned += [
        (start + year * HIRES_AT[i % len(HIRES_AT)] + timedelta(days=3 * i), "transfer",
         "new CSM", u, "hire")
        for i, u in enumerate(hires)
    ]  # fmt: skip
    moves: dict[int, Move] = {}
    rebalance_ops: list[int] = []
    leaver_ops: list[int] = []
    hire_rows: list[tuple[int, int, datetime]] = []
    for at, kind, reason, user_id, role in sorted(planned, key=lambda p: (p[0], p[4])):
        details: dict[str, object] = {"demo": reason}
        if user_id is not None:
            details["csm"] = names[user_id]
        op = new_operation(kind, at, details)
        moves[op] = Move(op, at, kind, reason)
        if role == "rebalance":
            rebalance_ops.append(op)
        elif role == "leaver" and user_id is not None:
            leaver_ops.append(op)
            session.execute(update(User).where(User.id == user_id).values(deactivated_at=at))
        elif user_id is not None:
            hire_rows.append((user_id, op, at))
            joined = at - timedelta(days=7)
            session.execute(update(User).where(User.id == user_id).values(created_at=joined))
    # Small lookup tables: the CSMs (an old one by position, a hire by the operation that
    # hired them), the leavers and the rebalances by position.
    stamp = "TEXT" if sqlite else "TIMESTAMP"
    bound = ":at" if sqlite else "CAST(:at AS TIMESTAMP)"
    session.execute(
        text(f"CREATE TEMP TABLE demo_csm (user_id INTEGER, pos INTEGER, op INTEGER, at {stamp})")
    )
    session.execute(
        text(
            "CREATE TEMP TABLE demo_event "
            f"(kind TEXT, pos INTEGER, user_id INTEGER, op INTEGER, at {stamp})"
        )
    )
    csm_rows: list[dict[str, object]] = [
        {"user_id": u, "pos": i, "op": None, "at": None} for i, u in enumerate(old)
    ]
    csm_rows += [{"user_id": u, "pos": None, "op": op, "at": _stored(t)} for u, op, t in hire_rows]
    session.execute(text(f"INSERT INTO demo_csm VALUES (:user_id, :pos, :op, {bound})"), csm_rows)
    events = [
        {"kind": "leaver", "pos": i, "user_id": u, "op": op, "at": _stored(moves[op].at)}
        for i, (u, op) in enumerate(zip(leaver_ids, leaver_ops, strict=True))
    ] + [
        {"kind": "rebalance", "pos": i, "user_id": None, "op": op, "at": _stored(moves[op].at)}
        for i, op in enumerate(rebalance_ops)
    ]
    session.execute(
        text(f"INSERT INTO demo_event VALUES (:kind, :pos, :user_id, :op, {bound})"), events
    )
    root = "COALESCE(g.id, p.id, c.id)"
    start_at = ":start" if sqlite else "CAST(:start AS TIMESTAMP)"
    leaver_share = LEAVER_SHARE if leaver_ids else 0
    session.execute(
        text(
            "CREATE TEMP TABLE demo_move (assignment_id INTEGER, account_id INTEGER, "
            f"prev INTEGER, op INTEGER, at {stamp}, reason TEXT)"
        )
    )
    session.execute(
        text(f"""
        INSERT INTO demo_move (assignment_id, account_id, prev, op, at, reason)
        SELECT x.id, x.account_id,
            CASE WHEN x.hire_op IS NOT NULL THEN
                    CASE WHEN x.owners = 1 AND x.old_enough = 1 THEN handed.user_id END
                 WHEN leaver.op IS NOT NULL THEN leaver.user_id
                 ELSE before.user_id END,
            COALESCE(x.hire_op, leaver.op, rebalance.op),
            COALESCE(x.hire_at, leaver.at, rebalance.at),
            CASE WHEN x.hire_op IS NOT NULL THEN 'demo: a new CSM''s book'
                 WHEN leaver.op IS NOT NULL THEN 'demo: the CSM left'
                 ELSE 'demo: rebalance' END
        FROM (
            SELECT a.id, a.account_id, cs.op AS hire_op, cs.at AS hire_at, cs.pos, o.n AS owners,
                CASE WHEN c.created_at < {start_at} THEN 1 ELSE 0 END AS old_enough,
                {_hash(root, 11, seed)} % 100 AS r, {_hash(root, 12, seed)} AS h2,
                {_hash(root, 13, seed)} AS h3, {_hash(root, 14, seed)} AS h4
            FROM assignments a
            JOIN accounts c ON c.id = a.account_id
            LEFT JOIN accounts p ON p.id = c.parent_id
            LEFT JOIN accounts g ON g.id = p.parent_id
            JOIN demo_csm cs ON cs.user_id = a.user_id
            JOIN (SELECT account_id, count(*) AS n FROM assignments GROUP BY account_id) o
              ON o.account_id = a.account_id
        ) x
        LEFT JOIN demo_csm handed ON handed.pos = x.h2 % :n_old
        LEFT JOIN demo_event leaver ON leaver.kind = 'leaver' AND x.hire_op IS NULL
            AND x.owners = 1 AND x.old_enough = 1 AND x.r < :leaver_share
            AND leaver.pos = x.h2 % :n_leavers
        LEFT JOIN demo_event rebalance ON rebalance.kind = 'rebalance' AND x.hire_op IS NULL
            AND x.owners = 1 AND x.old_enough = 1 AND x.r >= :leaver_share
            AND x.r < :leaver_share + :rebalance_share AND rebalance.pos = x.h3 % :n_rebalances
        LEFT JOIN demo_csm before ON before.pos = (x.pos + 1 + x.h4 % (:n_old - 1)) % :n_old
        WHERE x.hire_op IS NOT NULL OR leaver.op IS NOT NULL OR rebalance.op IS NOT NULL
        """),
        {
            "start": _stored(start),
            "n_old": len(old),
            "n_leavers": max(1, len(leaver_ids)),
            "leaver_share": leaver_share,
            "rebalance_share": REBALANCE_SHARE,
            "n_rebalances": len(rebalance_ops),
        },
    )
    first_id = int(session.scalar(text("SELECT coalesce(max(id), 0) FROM assignments")) or 0)
    # The owner before: a closed row, as the one it was replaced by had been (same source,
    # reason and start), ended by the move.
    session.execute(
        text("""
        INSERT INTO assignments (id, account_id, user_id, role, is_primary, source, reason,
            actor_id, operation_id, started_at, ended_at, ended_operation_id)
        SELECT :first_id + row_number() OVER (ORDER BY m.assignment_id), m.account_id,
            m.prev, a.role, a.is_primary, a.source, a.reason, :actor_id, :demo_op,
            a.started_at, m.at, m.op
        FROM demo_move m JOIN assignments a ON a.id = m.assignment_id
        WHERE m.prev IS NOT NULL
        """),
        {"first_id": first_id, "actor_id": actor_id, "demo_op": demo_operation_id},
    )
    session.execute(
        text("""
        UPDATE assignments SET started_at = m.at, operation_id = m.op,
            source = CASE WHEN assignments.source = 'inherited' THEN 'inherited'
                          ELSE 'manual' END,
            reason = CASE WHEN assignments.source = 'inherited' THEN assignments.reason
                          ELSE m.reason END
        FROM demo_move m WHERE assignments.id = m.assignment_id
        """)
    )
    session.execute(
        text("""
        INSERT INTO ownership_changes (account_id, version, operation_id, changed_at)
        SELECT account_id, 1 + row_number() OVER (PARTITION BY account_id ORDER BY at, op),
            op, at
        FROM (SELECT DISTINCT account_id, op, at FROM demo_move) d
        """)
    )
    session.execute(
        text("""
        UPDATE accounts SET ownership_version = v.version
        FROM (SELECT account_id, max(version) AS version FROM ownership_changes
              GROUP BY account_id HAVING max(version) > 1) v
        WHERE accounts.id = v.account_id
        """)
    )
    counted = session.execute(
        text("""
        SELECT op, count(DISTINCT account_id), count(*), count(prev) FROM demo_move GROUP BY op
        """)
    ).all()
    for table in ("demo_move", "demo_event", "demo_csm"):
        session.execute(text(f"DROP TABLE {table}"))
    per_operation = {
        int(op): (int(n), int(opened), int(closed)) for op, n, opened, closed in counted
    }
    return OwnershipPast(
        predecessors=sum(closed for _, _, closed in per_operation.values()),
        moves={op: per_operation.get(op, (0, 0, 0)) for op in moves},
    )


def julian_day(moment: datetime) -> float:
    """``moment`` (aware, on a whole minute) as SQLite's Julian day number."""
    return moment.astimezone(UTC).timestamp() / 86400.0 + 2440587.5


def _stored(moment: datetime) -> str:
    """``moment`` (aware) as naive UTC text in the stored form."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
