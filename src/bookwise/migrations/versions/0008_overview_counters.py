"""overview counters: book sizes, coverage and the account total, kept by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:50:39

The CSM overview reads three small tables instead of scanning every open assignment:

* ``book_counts`` (user, role): open rows of the user in the role, and the MRR of those
  accounts (NULL counts as 0);
* ``coverage_counts`` (role): accounts with at least one open row by an *active* user, and
  their MRR, each account counted once;
* ``account_count``: how many accounts exist (one row).

Triggers keep them exact in the statement that changes what they count, so every write path
is covered without remembering to: row triggers on SQLite (one writer at a time), statement
triggers with transition tables on PostgreSQL (a statement touching 50,000 rows makes one
grouped update). The SQL lives here, frozen with the revision; a later change to it is a new
migration. A SQLite migration that rebuilds ``accounts``, ``assignments`` or ``users`` (batch
mode copies the table) drops their triggers and must create them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_count",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_account_count_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_count")),
    )
    op.create_table(
        "coverage_counts",
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("mrr", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_coverage_counts")),
    )
    op.create_table(
        "book_counts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("mrr", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_book_counts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_book_counts")),
    )
    for statement in BACKFILL:
        op.execute(statement)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table, name in POSTGRES_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in POSTGRES_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("book_counts")
    op.drop_table("coverage_counts")
    op.drop_table("account_count")


# --- backfill: one grouped INSERT … SELECT per table ------------------------------------------

BACKFILL = [
    """
INSERT INTO book_counts (user_id, role, accounts, mrr)
SELECT mine.user_id, mine.role, count(*), coalesce(sum(account.mrr), 0)
FROM assignments mine JOIN accounts account ON account.id = mine.account_id
WHERE mine.ended_at IS NULL
GROUP BY mine.user_id, mine.role
""",
    """
INSERT INTO coverage_counts (role, accounts, mrr)
SELECT known.name, count(covered.account_id), coalesce(sum(account.mrr), 0)
FROM assignment_roles known
LEFT JOIN (
    SELECT DISTINCT owned.account_id, owned.role
    FROM assignments owned JOIN users owner ON owner.id = owned.user_id
    WHERE owned.ended_at IS NULL AND owner.active
) covered ON covered.role = known.name
LEFT JOIN accounts account ON account.id = covered.account_id
GROUP BY known.name
""",
    "INSERT INTO account_count (id, accounts) SELECT 1, count(*) FROM accounts",
]


# --- SQLite: row triggers -----------------------------------------------------------------
#
# SQLite admits one writer at a time and fires a row trigger right after its row is written,
# so each trigger sees every earlier row of its statement: the second of two owners opened on
# one account by one INSERT finds the first, and coverage counts the account once.

# Some active user other than this row owns the row's account in its role.
_SQLITE_OTHER_ACTIVE_OWNER = """EXISTS (
        SELECT 1 FROM assignments other JOIN users other_owner ON other_owner.id = other.user_id
        WHERE other.account_id = {row}.account_id AND other.role = {row}.role
          AND other.ended_at IS NULL AND other_owner.active AND other.id <> {row}.id)"""


def _sqlite_share(row: str, sign: str) -> str:
    """Add (sign '') or take away (sign '-') what the open row ``row`` contributes.

    To its user's book always; to the coverage of its role when its user is active and no
    other active user owns the account (the row itself excluded, whatever its state now).
    """
    other = _SQLITE_OTHER_ACTIVE_OWNER.format(row=row)
    return f"""
    INSERT INTO book_counts (user_id, role, accounts, mrr)
    SELECT {row}.user_id, {row}.role, {sign}1, {sign}coalesce(account.mrr, 0)
    FROM accounts account
    WHERE account.id = {row}.account_id AND {row}.ended_at IS NULL
    ON CONFLICT (user_id, role) DO UPDATE SET
        accounts = book_counts.accounts + excluded.accounts,
        mrr = book_counts.mrr + excluded.mrr;
    INSERT INTO coverage_counts (role, accounts, mrr)
    SELECT {row}.role, {sign}1, {sign}coalesce(account.mrr, 0)
    FROM accounts account
    WHERE account.id = {row}.account_id AND {row}.ended_at IS NULL
      AND (SELECT owner.active FROM users owner WHERE owner.id = {row}.user_id)
      AND NOT {other}
    ON CONFLICT (role) DO UPDATE SET
        accounts = coverage_counts.accounts + excluded.accounts,
        mrr = coverage_counts.mrr + excluded.mrr;"""


_SQLITE_CLOSED = (
    "OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL AND OLD.account_id = NEW.account_id "
    "AND OLD.user_id = NEW.user_id AND OLD.role = NEW.role"
)

SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER book_counts_assignment_inserted AFTER INSERT ON assignments
FOR EACH ROW WHEN NEW.ended_at IS NULL
BEGIN{_sqlite_share("NEW", "")}
END""",
    # Closing a row, the one update the write path makes: its share leaves.
    f"""
CREATE TRIGGER book_counts_assignment_closed
AFTER UPDATE OF ended_at, account_id, user_id, role ON assignments
FOR EACH ROW WHEN {_SQLITE_CLOSED}
BEGIN{_sqlite_share("OLD", "-")}
END""",
    # Any other change (reopened; another owner, account or role) is counted right too: the
    # old row's share leaves and the new row's arrives.
    f"""
CREATE TRIGGER book_counts_assignment_updated
AFTER UPDATE OF ended_at, account_id, user_id, role ON assignments
FOR EACH ROW WHEN (OLD.ended_at IS NULL OR NEW.ended_at IS NULL) AND NOT ({_SQLITE_CLOSED})
BEGIN{_sqlite_share("OLD", "-")}{_sqlite_share("NEW", "")}
END""",
    f"""
CREATE TRIGGER book_counts_assignment_deleted AFTER DELETE ON assignments
FOR EACH ROW WHEN OLD.ended_at IS NULL
BEGIN{_sqlite_share("OLD", "-")}
END""",
    """
CREATE TRIGGER book_counts_account_mrr AFTER UPDATE OF mrr ON accounts
FOR EACH ROW WHEN OLD.mrr IS NOT NEW.mrr
BEGIN
    UPDATE book_counts SET mrr = mrr + coalesce(NEW.mrr, 0) - coalesce(OLD.mrr, 0)
    WHERE (user_id, role) IN (
        SELECT mine.user_id, mine.role FROM assignments mine
        WHERE mine.account_id = NEW.id AND mine.ended_at IS NULL);
    UPDATE coverage_counts SET mrr = mrr + coalesce(NEW.mrr, 0) - coalesce(OLD.mrr, 0)
    WHERE role IN (
        SELECT mine.role FROM assignments mine JOIN users owner ON owner.id = mine.user_id
        WHERE mine.account_id = NEW.id AND mine.ended_at IS NULL AND owner.active);
END""",
    """
CREATE TRIGGER account_count_inserted AFTER INSERT ON accounts
FOR EACH ROW
BEGIN
    INSERT INTO account_count (id, accounts) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET accounts = account_count.accounts + 1;
END""",
    """
CREATE TRIGGER account_count_deleted AFTER DELETE ON accounts
FOR EACH ROW
BEGIN
    INSERT INTO account_count (id, accounts) VALUES (1, -1)
    ON CONFLICT (id) DO UPDATE SET accounts = account_count.accounts - 1;
END""",
    # (De)activating a user covers, or uncovers, the accounts of theirs that no other active
    # user owns: one grouped statement over the user's book.
    """
CREATE TRIGGER coverage_counts_user_active AFTER UPDATE OF active ON users
FOR EACH ROW WHEN OLD.active IS NOT NEW.active
BEGIN
    INSERT INTO coverage_counts (role, accounts, mrr)
    SELECT mine.role,
        CASE WHEN NEW.active THEN 1 ELSE -1 END * count(*),
        CASE WHEN NEW.active THEN 1 ELSE -1 END * coalesce(sum(account.mrr), 0)
    FROM assignments mine JOIN accounts account ON account.id = mine.account_id
    WHERE mine.user_id = NEW.id AND mine.ended_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM assignments other JOIN users other_owner ON other_owner.id = other.user_id
        WHERE other.account_id = mine.account_id AND other.role = mine.role
          AND other.ended_at IS NULL AND other_owner.active AND other.user_id <> NEW.id)
    GROUP BY mine.role
    ON CONFLICT (role) DO UPDATE SET
        accounts = coverage_counts.accounts + excluded.accounts,
        mrr = coverage_counts.mrr + excluded.mrr;
END""",
]
SQLITE_TRIGGER_NAMES = [
    "book_counts_assignment_inserted",
    "book_counts_assignment_closed",
    "book_counts_assignment_updated",
    "book_counts_assignment_deleted",
    "book_counts_account_mrr",
    "account_count_inserted",
    "account_count_deleted",
    "coverage_counts_user_active",
]


# --- PostgreSQL: statement triggers with transition tables ----------------------------------
#
# One trigger call per statement, whatever the number of rows, with the statement's rows as
# tables. Each function first locks the counter rows it will change, in key order (the
# coverage rows by role, then the book rows by user and role), so that two transactions
# touching the same CSMs queue instead of deadlocking. Only then does it read what the counts
# depend on: at READ COMMITTED every statement of a function reads with a new snapshot, so
# these reads see every change committed by the transactions that held the locks before.
# That is what keeps coverage exact when a user is (de)activated while another transaction
# changes the owners of that user's accounts, and it holds even for a writer that forgot to
# lock its accounts. Lock order across the whole application: account_count, then
# coverage_counts, then book_counts.
#
# Every statement after a function's first check runs through EXECUTE, so that it is planned
# for the rows at hand each time. PL/pgSQL keeps the plan of a static statement without
# parameters for the whole session: planned on a first, one-row call, a join over the
# transition table stays a nested loop when a later statement brings 60,000 rows (minutes).
# Planning costs well under a millisecond per statement. The first check of each function
# scans its transition tables once, with no join, whatever plan it was given.


def _run(sql: str, tag: str = "q") -> str:
    """A PL/pgSQL statement that plans and runs ``sql`` afresh (``$lock$`` marks the locks)."""
    return f"\n    EXECUTE ${tag}${sql}\n    ${tag}$;"


def _lock(sql: str) -> str:
    return _run(sql, "lock")


# (account_id, user_id, role, d): d = +1 per open row the statement added, -1 per open row
# it removed, netted per triple (an UPDATE that changes nothing about openness nets to 0).
_PG_CHANGES = {
    "inserted": "SELECT account_id, user_id, role, 1 AS d FROM new_rows WHERE ended_at IS NULL",
    "deleted": "SELECT account_id, user_id, role, -1 AS d FROM old_rows WHERE ended_at IS NULL",
    "updated": """SELECT account_id, user_id, role, sum(d) AS d FROM (
            SELECT account_id, user_id, role, 1 AS d FROM new_rows WHERE ended_at IS NULL
            UNION ALL
            SELECT account_id, user_id, role, -1 AS d FROM old_rows WHERE ended_at IS NULL
        ) both_sides
        GROUP BY account_id, user_id, role HAVING sum(d) <> 0""",
}
_PG_REFERENCING = {
    "inserted": ("INSERT", "NEW TABLE AS new_rows"),
    "deleted": ("DELETE", "OLD TABLE AS old_rows"),
    "updated": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
}

# ``per_account`` yields (account_id, role, d): how many active owners the statement added
# (d > 0) or removed (d < 0) on the account. The account is covered now when it has an active
# owner now, and was covered before when it had more than d: the difference is this
# statement's change to coverage, right however many owners one statement opened or closed
# on one account.
_PG_COVERAGE_UPDATE = """
    UPDATE coverage_counts SET
        accounts = coverage_counts.accounts + delta.accounts,
        mrr = coverage_counts.mrr + delta.mrr
    FROM (
        SELECT judged.role, sum(judged.step) AS accounts, sum(judged.step * judged.mrr) AS mrr
        FROM (
            SELECT per_account.role, coalesce(account.mrr, 0) AS mrr,
                CASE WHEN owners.active_now > 0 THEN 1 ELSE 0 END
                - CASE WHEN owners.active_now - per_account.d > 0 THEN 1 ELSE 0 END AS step
            FROM ({per_account}) per_account
            JOIN accounts account ON account.id = per_account.account_id
            CROSS JOIN LATERAL (
                SELECT count(*) AS active_now
                FROM assignments owned JOIN users owner ON owner.id = owned.user_id
                WHERE owned.account_id = per_account.account_id AND owned.role = per_account.role
                  AND owned.ended_at IS NULL AND owner.active
            ) owners
        ) judged
        GROUP BY judged.role
    ) delta
    WHERE coverage_counts.role = delta.role AND (delta.accounts <> 0 OR delta.mrr <> 0)"""


def _ensure_coverage_rows(roles: str) -> str:
    # Rows that do not exist yet (a role's first owner); existing ones are filtered out
    # first, so that this insert never waits on them: the lock is the one place to wait.
    return _run(f"""
    INSERT INTO coverage_counts (role, accounts, mrr)
    SELECT DISTINCT role, 0, 0 FROM ({roles}) changes
    WHERE role NOT IN (SELECT role FROM coverage_counts)
    ORDER BY role
    ON CONFLICT (role) DO NOTHING""")


def _pg_assignments_function(kind: str) -> str:
    changes = _PG_CHANGES[kind]
    per_account = f"""SELECT changes.account_id, changes.role, sum(changes.d) AS d
            FROM ({changes}) changes JOIN users owner ON owner.id = changes.user_id
            WHERE owner.active
            GROUP BY changes.account_id, changes.role"""
    body = "".join(
        [
            _ensure_coverage_rows(changes),
            _lock(f"""
    SELECT 1 FROM coverage_counts
    WHERE role IN (SELECT role FROM ({changes}) changes)
    ORDER BY role FOR UPDATE"""),
            _run(f"""
    INSERT INTO book_counts (user_id, role, accounts, mrr)
    SELECT DISTINCT user_id, role, 0, 0 FROM ({changes}) changes
    WHERE (user_id, role) NOT IN (SELECT user_id, role FROM book_counts)
    ORDER BY user_id, role
    ON CONFLICT (user_id, role) DO NOTHING"""),
            _lock(f"""
    SELECT 1 FROM book_counts
    WHERE (user_id, role) IN (SELECT DISTINCT user_id, role FROM ({changes}) changes)
    ORDER BY user_id, role FOR UPDATE"""),
            _run(f"""
    UPDATE book_counts SET
        accounts = book_counts.accounts + delta.accounts,
        mrr = book_counts.mrr + delta.mrr
    FROM (
        SELECT changes.user_id, changes.role,
            sum(changes.d) AS accounts, sum(changes.d * coalesce(account.mrr, 0)) AS mrr
        FROM ({changes}) changes JOIN accounts account ON account.id = changes.account_id
        GROUP BY changes.user_id, changes.role
    ) delta
    WHERE book_counts.user_id = delta.user_id AND book_counts.role = delta.role"""),
            _run(_PG_COVERAGE_UPDATE.format(per_account=per_account)),
        ]
    )
    return f"""
CREATE FUNCTION book_counts_assignments_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS ({changes}) THEN
        RETURN NULL;
    END IF;{body}
    RETURN NULL;
END
$$"""


# Accounts whose mrr the statement changed, with the change (NULL counts as 0). Grouped, not
# a join of the two transition tables: every UPDATE of accounts comes through here (the
# version bump of every operation, depths, policies), so this is one pass over its rows.
_PG_MRR_CHANGES = """SELECT id, sum(signed) AS diff FROM (
            SELECT id, coalesce(mrr, 0) AS signed FROM new_accounts
            UNION ALL
            SELECT id, -coalesce(mrr, 0) FROM old_accounts
        ) both_sides
        GROUP BY id HAVING sum(signed) <> 0"""

_PG_ACCOUNTS_UPDATED_BODY = "".join(
    [
        # Every coverage row, not only those of the owners seen now: an owner opened by a
        # transaction that has not committed yet is counted right once it holds these locks.
        _lock("""
    SELECT 1 FROM coverage_counts ORDER BY role FOR UPDATE"""),
        _lock(f"""
    SELECT 1 FROM book_counts
    WHERE (user_id, role) IN (
        SELECT DISTINCT mine.user_id, mine.role
        FROM ({_PG_MRR_CHANGES}) changed
        JOIN assignments mine ON mine.account_id = changed.id AND mine.ended_at IS NULL)
    ORDER BY user_id, role FOR UPDATE"""),
        _run(f"""
    UPDATE book_counts SET mrr = book_counts.mrr + delta.mrr
    FROM (
        SELECT mine.user_id, mine.role, sum(changed.diff) AS mrr
        FROM ({_PG_MRR_CHANGES}) changed
        JOIN assignments mine ON mine.account_id = changed.id AND mine.ended_at IS NULL
        GROUP BY mine.user_id, mine.role
    ) delta
    WHERE book_counts.user_id = delta.user_id AND book_counts.role = delta.role"""),
        _run(f"""
    UPDATE coverage_counts SET mrr = coverage_counts.mrr + delta.mrr
    FROM (
        SELECT covered.role, sum(covered.diff) AS mrr
        FROM (
            SELECT DISTINCT changed.id, changed.diff, mine.role
            FROM ({_PG_MRR_CHANGES}) changed
            JOIN assignments mine ON mine.account_id = changed.id AND mine.ended_at IS NULL
            JOIN users owner ON owner.id = mine.user_id
            WHERE owner.active
        ) covered
        GROUP BY covered.role
    ) delta
    WHERE coverage_counts.role = delta.role"""),
    ]
)

_PG_ACCOUNTS_UPDATED = f"""
CREATE FUNCTION book_counts_accounts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS ({_PG_MRR_CHANGES}) THEN
        RETURN NULL;
    END IF;{_PG_ACCOUNTS_UPDATED_BODY}
    RETURN NULL;
END
$$"""

# Users whose active flag the statement changed: +1 who became active, -1 who stopped.
_PG_ACTIVITY_FLIPS = """SELECT id, sum(signed) AS d FROM (
                SELECT id, CASE WHEN active THEN 1 ELSE 0 END AS signed FROM new_users
                UNION ALL
                SELECT id, CASE WHEN active THEN -1 ELSE 0 END FROM old_users
            ) both_sides
            GROUP BY id HAVING sum(signed) <> 0"""
# Their open rows, per account and role: the change in active owners there.
_PG_ACTIVITY_CHANGES = f"""SELECT mine.account_id, mine.role, sum(flipped.d) AS d
            FROM ({_PG_ACTIVITY_FLIPS}) flipped
            JOIN assignments mine ON mine.user_id = flipped.id AND mine.ended_at IS NULL
            GROUP BY mine.account_id, mine.role"""

_PG_USERS_UPDATED_BODY = "".join(
    [
        _ensure_coverage_rows(_PG_ACTIVITY_CHANGES),
        _lock("""
    SELECT 1 FROM coverage_counts ORDER BY role FOR UPDATE"""),
        _run(_PG_COVERAGE_UPDATE.format(per_account=_PG_ACTIVITY_CHANGES)),
    ]
)

_PG_USERS_UPDATED = f"""
CREATE FUNCTION coverage_counts_users_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS ({_PG_ACTIVITY_FLIPS}) THEN
        RETURN NULL;
    END IF;{_PG_USERS_UPDATED_BODY}
    RETURN NULL;
END
$$"""


def _pg_account_count_function(kind: str, rows: str, sign: str) -> str:
    return f"""
CREATE FUNCTION account_count_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_count (id, accounts)
    SELECT 1, {sign}count(*) FROM {rows} HAVING count(*) > 0
    ON CONFLICT (id) DO UPDATE SET accounts = account_count.accounts + excluded.accounts;
    RETURN NULL;
END
$$"""


def _pg_trigger(name: str, event: str, table: str, referencing: str) -> str:
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    )


POSTGRES_TRIGGER_NAMES = [
    *[("assignments", f"book_counts_assignments_{kind}") for kind in _PG_CHANGES],
    ("accounts", "book_counts_accounts_updated"),
    ("accounts", "account_count_inserted"),
    ("accounts", "account_count_deleted"),
    ("users", "coverage_counts_users_updated"),
]
POSTGRES_FUNCTION_NAMES = [name for _, name in POSTGRES_TRIGGER_NAMES]

POSTGRES_TRIGGERS = [
    *[_pg_assignments_function(kind) for kind in _PG_CHANGES],
    _PG_ACCOUNTS_UPDATED,
    _pg_account_count_function("inserted", "new_accounts", ""),
    _pg_account_count_function("deleted", "old_accounts", "-"),
    _PG_USERS_UPDATED,
    *[
        _pg_trigger(f"book_counts_assignments_{kind}", event, "assignments", referencing)
        for kind, (event, referencing) in _PG_REFERENCING.items()
    ],
    _pg_trigger(
        "book_counts_accounts_updated",
        "UPDATE",
        "accounts",
        "OLD TABLE AS old_accounts NEW TABLE AS new_accounts",
    ),
    _pg_trigger("account_count_inserted", "INSERT", "accounts", "NEW TABLE AS new_accounts"),
    _pg_trigger("account_count_deleted", "DELETE", "accounts", "OLD TABLE AS old_accounts"),
    _pg_trigger(
        "coverage_counts_users_updated",
        "UPDATE",
        "users",
        "OLD TABLE AS old_users NEW TABLE AS new_users",
    ),
]
