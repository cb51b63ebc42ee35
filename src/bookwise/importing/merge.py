"""The merge: a fixed number of set-based statements from the staging rows into accounts.

Each check marks the rows it refuses (``failed`` with column, value and reason) so that the
later statements only see good rows; none of them loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, REGCLASS
from sqlalchemy.orm import Session

from bookwise.accounts.hierarchy import shift_child_counts
from bookwise.accounts.history import record_value_changes
from bookwise.accounts.schemas import VALUE_FIELDS
from bookwise.audit import AuditAction
from bookwise.db import is_sqlite
from bookwise.importing.cycles import refuse_cycles
from bookwise.importing.mapping import PARENT, FileMapping
from bookwise.importing.staging import table_of
from bookwise.models import (
    VALUE_HISTORY_FIELDS,
    Account,
    AuditEvent,
    ImportOwner,
    ImportRow,
    User,
)
from bookwise.models.base import JSONType, UTCDateTime

ROWS = table_of(ImportRow)
EARLIER = ROWS.alias("earlier")
OWNER_REFS = table_of(ImportOwner)
ACCOUNTS = table_of(Account)
USERS = table_of(User)
FIELDS = ("name", *VALUE_FIELDS)


@dataclass
class Merge:
    """What every statement of one import's merge needs."""

    session: Session
    import_id: int
    mapping: FileMapping
    actor: User
    now: datetime

    def header(self, target: str, default: str) -> str:
        """The file's header for ``target`` (for error reports)."""
        for column in self.mapping.columns:
            if column.target == target:
                return column.header
        return default

    @property
    def fields(self) -> list[str]:
        """The standard fields the file sets (name also sets name_fold)."""
        present = [f for f in FIELDS if self.mapping.has(f)]
        return [*present, "name_fold"] if "name" in present else present

    @property
    def has_custom(self) -> bool:
        """True when the file sets custom attributes."""
        return any(t.startswith("custom.") for t in self.mapping.targets)

    def mine(self, table: FromClause = ROWS) -> ColumnElement[bool]:
        """SQL: the row belongs to this import."""
        return table.c.import_id == self.import_id

    def good(self) -> ColumnElement[bool]:
        """SQL: this import's row has not failed."""
        return and_(self.mine(), ROWS.c.failed == false())


def fail(m: Merge, condition: Any, *, column: str, value: Any, reason: Any) -> None:
    """Mark good rows matching ``condition`` as failed with a column, value and reason."""
    m.session.execute(
        update(ROWS)
        .where(m.good(), condition)
        .values(
            failed=True,
            error_column=literal(column),
            error_value=value,
            error_reason=reason,
        )
    )


def analyse_staging(m: Merge) -> None:
    """On PostgreSQL, give the planner row counts for the freshly filled staging tables."""
    if not is_sqlite(m.session):
        m.session.execute(text("ANALYZE import_rows, import_owners"))


# PostgreSQL plans a walk of the hierarchy from the accounts' statistics. Planned for the
# few rows a fresh table had, each step of a walk scanned the whole table (6 s to move the
# top of a 5,000-deep chain just imported): an import that grows the table by a tenth, and by
# at least 5,000 accounts, gives the planner the new size (as autovacuum would, later).
_GREW = text(
    """
SELECT (SELECT count(*) FROM import_rows WHERE import_id = :i AND status = 'created'
        AND NOT failed) >= greatest(5000, 0.1 * (SELECT reltuples FROM pg_class
                                                 WHERE oid = 'accounts'::regclass))
"""
)


def analyse_accounts(m: Merge) -> None:
    """On PostgreSQL, refresh the accounts' statistics when the import grew the table a lot."""
    if not is_sqlite(m.session) and m.session.scalar(_GREW, {"i": m.import_id}):
        m.session.execute(text("ANALYZE accounts"))


def refuse_repeats(m: Merge) -> None:
    """A repeated external id is an error on each line where it repeats."""
    first = (
        select(func.min(EARLIER.c.line))
        .where(
            m.mine(EARLIER),
            EARLIER.c.external_id == ROWS.c.external_id,
        )
        .scalar_subquery()
    )
    fail(
        m,
        first < ROWS.c.line,
        column=m.header("external_id", "external_id"),
        value=ROWS.c.external_id,
        reason=literal("repeats the external id of line ") + cast(first, String),
    )


def resolve_accounts(m: Merge) -> None:
    """Each row's existing account (by external id); a new row keeps the key -line it was
    staged with, so this touches only the rows the database already has."""
    m.session.execute(
        update(ROWS)
        .where(m.mine(), ACCOUNTS.c.external_id == ROWS.c.external_id)
        .values(account_id=ACCOUNTS.c.id, node_key=ACCOUNTS.c.id)
    )


def require_names(m: Merge) -> None:
    """A new account needs a name."""
    fail(
        m,
        and_(ROWS.c.account_id.is_(None), ROWS.c.name.is_(None)),
        column=m.header("name", "name"),
        value=literal(""),
        reason=literal("a new account needs a name (the file has no name for it)"),
    )


def check_parents(m: Merge) -> None:
    """Refuse rows whose parent is unknown, whose parent's row failed, or whose parent would
    make a cycle (``classify`` has resolved the parent keys)."""
    column = m.header(PARENT, PARENT)
    fail(
        m,
        and_(ROWS.c.parent_ref.is_not(None), ROWS.c.parent_key.is_(None)),
        column=column,
        value=ROWS.c.parent_ref,
        reason=literal("no account with this external id, in the database or in a good row"),
    )
    m.session.execute(_CASCADE, {"i": m.import_id, "col": column})
    refuse_cycles(m.session, import_id=m.import_id, column=column)


def _parent_key(m: Merge) -> Any:
    """SQL: the row's parent as an account id, or as -line of a good row of the file."""
    by_account = select(ACCOUNTS.c.id).where(ACCOUNTS.c.external_id == ROWS.c.parent_ref)
    by_row = (
        select(-EARLIER.c.line)
        .where(
            m.mine(EARLIER),
            EARLIER.c.external_id == ROWS.c.parent_ref,
            EARLIER.c.failed == false(),
        )
        .limit(1)
    )
    return func.coalesce(by_account.scalar_subquery(), by_row.scalar_subquery())


def _moved(parent_key: Any) -> ColumnElement[bool]:
    """SQL: the row gives its account a parent other than the stored one (a new account
    moves when it has a parent at all)."""
    current = select(ACCOUNTS.c.parent_id).where(ACCOUNTS.c.id == ROWS.c.account_id)
    return or_(
        and_(ROWS.c.account_id.is_(None), parent_key.is_not(None)),
        and_(
            ROWS.c.account_id.is_not(None),
            current.scalar_subquery().is_distinct_from(parent_key),
        ),
    )


# A new account whose parent's row failed cannot be created under it: fail it too, and so on
# down the file's own chains of new accounts.
_CASCADE = text(
    """
WITH RECURSIVE doomed(node) AS (
    SELECT node_key FROM import_rows WHERE import_id = :i AND failed AND node_key < 0
    UNION
    SELECT r.node_key FROM import_rows r JOIN doomed d ON r.parent_key = d.node
    WHERE r.import_id = :i
)
UPDATE import_rows SET failed = TRUE, error_column = :col, error_value = parent_ref,
    error_reason = 'the row of this parent failed'
WHERE import_id = :i AND NOT failed AND parent_key IN (SELECT node FROM doomed)
"""
)


def classify(m: Merge) -> None:
    """Each good row is created, updated (a field, the custom values or the parent changed)
    or unchanged, in one pass over the staged rows: a created row gets its new account's id
    here (so the insert writes ids and parents in one statement), and with a parent column
    each row gets its parent key and whether it moves. Rows that later checks refuse keep
    their status but count as failed."""
    differences = [ACCOUNTS.c[f].is_distinct_from(ROWS.c[f]) for f in m.fields]
    if m.has_custom:
        merged = merged_custom(m, ACCOUNTS.c.custom, ROWS.c.custom)
        stored = func.json(ACCOUNTS.c.custom) if is_sqlite(m.session) else ACCOUNTS.c.custom
        differences.append(merged.is_distinct_from(stored))
    changed: ColumnElement[bool] = (
        exists().where(ACCOUNTS.c.id == ROWS.c.account_id, or_(*differences))
        if differences
        else false()
    )
    values: dict[str, Any] = {
        "account_id": case((ROWS.c.account_id.is_(None), _new_id(m)), else_=ROWS.c.account_id)
    }
    if m.mapping.has(PARENT):
        parent_key = _parent_key(m)
        values["parent_key"] = parent_key
        values["moved"] = _moved(parent_key)
        changed = or_(values["moved"], changed)
    values["status"] = case(
        (ROWS.c.account_id.is_(None), literal("created")),
        (changed, literal("updated")),
        else_=literal("unchanged"),
    )
    m.session.execute(update(ROWS).where(m.good()).values(values))


def _new_id(m: Merge) -> Any:
    """SQL: the id of the account a new row creates.

    PostgreSQL takes it from the accounts' own sequence. SQLite has no sequence, but the
    import holds the database's write lock from its first statement (``BEGIN IMMEDIATE``),
    so the ids after the highest one are free: the row's line counted from the file's first
    row (dense unless rows failed or lines were blank).
    """
    if not is_sqlite(m.session):
        sequence = select(func.pg_get_serial_sequence("accounts", "id")).scalar_subquery()
        return func.nextval(cast(sequence, REGCLASS))
    highest = select(func.coalesce(func.max(ACCOUNTS.c.id), 0)).scalar_subquery()
    first = select(func.min(EARLIER.c.line)).where(m.mine(EARLIER)).scalar_subquery()
    return highest + ROWS.c.line - first + 1


def merged_custom(m: Merge, stored: Any, patch: Any) -> Any:
    """SQL: stored custom values with the file's applied; an empty cell removes the key."""
    if is_sqlite(m.session):
        return func.json_patch(func.coalesce(stored, "{}"), func.coalesce(patch, "{}"))
    base = func.coalesce(stored, cast(literal("{}"), JSONB))
    return func.jsonb_strip_nulls(base.op("||")(cast(func.coalesce(patch, "{}"), JSONB)))


def insert_new(m: Merge) -> None:
    """Insert the created rows, each with its id, parent, depth and child count, in one
    statement (a parent that is itself new may come later in the file: foreign keys are
    checked at the statement's end). Nothing is written to a new account twice."""
    staged = [*FIELDS, "name_fold"]
    custom = merged_custom(m, null(), ROWS.c.custom) if m.has_custom else _empty_json(m)
    columns = ["id", "external_id", *staged, "custom", "ownership_version", "created_at"]
    values: list[Any] = [
        ROWS.c.account_id,
        ROWS.c.external_id,
        *[ROWS.c[f] for f in staged],
        custom,
        literal(0),
        literal(m.now, UTCDateTime),
    ]
    source: FromClause = ROWS
    if m.mapping.has(PARENT):
        tree = _new_depths(m)
        source = ROWS.join(tree, tree.c.line == ROWS.c.line)
        columns += ["parent_id", "depth", "child_count"]
        values += [_parent_id(m), tree.c.depth, _new_children(m)]
    else:
        columns.append("depth")
        values.append(literal(0))
    rows = select(*values).select_from(source).where(m.good(), ROWS.c.status == "created")
    m.session.execute(insert(ACCOUNTS).from_select(columns, rows))


def _new_depths(m: Merge) -> Any:
    """SQL (a recursive CTE of line, depth): every created row's depth, walking the file's
    own hierarchy down from the rows whose parent is none or an existing account. An
    existing parent that moves in this import is fixed afterwards with everything below it
    (``move_accounts``)."""
    stored = select(ACCOUNTS.c.depth + 1).where(ACCOUNTS.c.id == ROWS.c.parent_key)
    top = select(
        ROWS.c.line.label("line"),
        case((ROWS.c.parent_key.is_(None), literal(0)), else_=stored.scalar_subquery()).label(
            "depth"
        ),
    ).where(
        m.good(),
        ROWS.c.status == "created",
        or_(ROWS.c.parent_key.is_(None), ROWS.c.parent_key > 0),
    )
    tree = top.cte("tree", recursive=True)
    below = ROWS.alias("below")
    return tree.union_all(
        select(below.c.line, tree.c.depth + 1).where(
            m.mine(below),
            below.c.parent_key == -tree.c.line,
            below.c.failed == false(),
            below.c.status == "created",
        )
    )


def _new_children(m: Merge) -> Any:
    """SQL: how many good rows name this new row as parent (new accounts, and existing ones
    that move under a new one). A correlated count, one index probe per new row: a join
    to grouped counts was planned as a nested loop from the staging statistics, taken
    before any row had a parent key."""
    rows = ROWS.alias("children")
    return (
        select(func.count())
        .where(m.mine(rows), rows.c.parent_key == -ROWS.c.line, rows.c.failed == false())
        .scalar_subquery()
    )


def _parent_id(m: Merge) -> Any:
    """SQL: the account id of the row's parent (a new parent's row has it since classify)."""
    new_parent = select(EARLIER.c.account_id).where(
        m.mine(EARLIER), EARLIER.c.line == -ROWS.c.parent_key
    )
    return case((ROWS.c.parent_key < 0, new_parent.scalar_subquery()), else_=ROWS.c.parent_key)


def _empty_json(m: Merge) -> Any:
    if is_sqlite(m.session):
        return literal("{}")
    return cast(literal("{}"), JSONB)


def update_existing(m: Merge) -> None:
    """Write the file's values over the updated accounts (only the columns it has)."""
    values: dict[str, Any] = {f: ROWS.c[f] for f in m.fields}
    if m.has_custom:
        values["custom"] = merged_custom(m, ACCOUNTS.c.custom, ROWS.c.custom)
    if not values:
        return
    m.session.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == ROWS.c.account_id, m.good(), ROWS.c.status == "updated")
        .values(values)
    )


def move_accounts(m: Merge) -> None:
    """Set the new parents of existing accounts and move the child counts with them (the
    new accounts' own counts were written by the insert), then recompute depths below every
    moved existing account's top."""
    moving = select(ROWS.c.account_id).where(m.good(), ROWS.c.moved == true())
    existing = moving.where(ROWS.c.status == "updated")
    shift_child_counts(m.session, children=existing, by=-1)
    m.session.execute(
        update(ACCOUNTS)
        .where(
            ACCOUNTS.c.id == ROWS.c.account_id,
            m.good(),
            ROWS.c.moved == true(),
            ROWS.c.status == "updated",
        )
        .values(parent_id=_parent_id(m))
    )
    shift_child_counts(m.session, children=moving.where(ROWS.c.parent_key > 0), by=1)
    m.session.execute(_DEPTHS, {"i": m.import_id})


_DEPTHS = text(
    """
WITH RECURSIVE up(id, parent_id) AS (
    SELECT a.id, a.parent_id FROM accounts a
    WHERE a.id IN (SELECT account_id FROM import_rows
                   WHERE import_id = :i AND moved AND NOT failed AND status = 'updated')
    UNION
    SELECT a.id, a.parent_id FROM accounts a JOIN up ON a.id = up.parent_id
), down(id, d) AS (
    SELECT id, 0 FROM up WHERE parent_id IS NULL
    UNION ALL
    SELECT a.id, down.d + 1 FROM accounts a JOIN down ON a.parent_id = down.id
)
UPDATE accounts SET depth = down.d FROM down
WHERE down.id = accounts.id AND accounts.depth <> down.d
"""
)


def record_values(m: Merge) -> None:
    """The value history of the updated and created accounts, in three statements for the
    whole file, marked with this import's id (``accounts.history``). A file without a
    history field writes none.

    An updated account gets a row only for the fields whose value differs from its open
    row. A created account has no history to compare with or close: its first values are
    inserted as a bulk load's are, without looking for a row just closed. The updated
    accounts go first, so their look-ups do not see the new accounts' rows."""
    if not any(m.mapping.has(f) for f in (*VALUE_HISTORY_FIELDS, PARENT)):
        return
    for status, now in (("updated", m.now), ("created", None)):
        record_value_changes(
            m.session,
            accounts=select(ROWS.c.account_id).where(m.good(), ROWS.c.status == status),
            actor_id=m.actor.id,
            source="import",
            now=now,
            import_id=m.import_id,
        )


def record_audit(m: Merge) -> None:
    """One audit event per created or updated account, in one statement."""
    action = case(
        (ROWS.c.status == "created", literal(AuditAction.ACCOUNT_CREATED.value)),
        else_=literal(AuditAction.ACCOUNT_UPDATED.value),
    )
    events = select(
        literal(m.now, UTCDateTime),
        literal(m.actor.id),
        action,
        literal("account"),
        cast(ROWS.c.account_id, String),
        literal({"source": "import", "import_id": m.import_id}, JSONType),
    ).where(m.good(), ROWS.c.status.in_(("created", "updated")))
    m.session.execute(
        insert(table_of(AuditEvent)).from_select(
            ["at", "actor_id", "action", "subject_type", "subject_key", "details"], events
        )
    )


def counts(m: Merge) -> dict[str, int]:
    """Staged rows by outcome: created, updated, unchanged, failed."""
    outcome = case((ROWS.c.failed == true(), literal("failed")), else_=ROWS.c.status)
    rows = m.session.execute(select(outcome, func.count()).where(m.mine()).group_by(outcome)).all()
    result = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    result.update({str(k): int(v) for k, v in rows})
    return result


def inheritance_roots(m: Merge) -> Any:
    """Accounts that may now inherit differently: created, moved, or whose policy changed."""
    policy = m.mapping.has("inherit_policy")
    condition = or_(ROWS.c.status == "created", ROWS.c.moved == true())
    if policy:
        condition = or_(condition, ROWS.c.status == "updated")
    return select(ROWS.c.account_id).where(m.good(), condition)
