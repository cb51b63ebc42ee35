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
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from bookwise.accounts.hierarchy import shift_child_counts
from bookwise.accounts.schemas import VALUE_FIELDS
from bookwise.db import is_sqlite
from bookwise.importing.mapping import OWNER_IDS, OWNERS, PARENT, FileMapping
from bookwise.importing.staging import table_of
from bookwise.models import Account, AuditEvent, ImportOwner, ImportRow, OwnershipChange, User
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
    """Each row's existing account (by external id); new rows are keyed by -line."""
    found = select(ACCOUNTS.c.id).where(ACCOUNTS.c.external_id == ROWS.c.external_id)
    m.session.execute(
        update(ROWS)
        .where(m.mine())
        .values(
            account_id=found.scalar_subquery(),
            node_key=func.coalesce(found.scalar_subquery(), -ROWS.c.line),
        )
    )


def resolve_owners(m: Merge) -> None:
    """Owner refs to user ids (by casefolded email or by external id); unknown ones fail."""
    by_email = select(USERS.c.id).where(USERS.c.email_fold == OWNER_REFS.c.ref)
    by_id = select(USERS.c.id).where(USERS.c.external_id == OWNER_REFS.c.ref)
    m.session.execute(
        update(OWNER_REFS)
        .where(m.mine(OWNER_REFS))
        .values(
            user_id=case(
                (OWNER_REFS.c.by_email == true(), by_email.scalar_subquery()),
                else_=by_id.scalar_subquery(),
            )
        )
    )
    unknown = and_(
        m.mine(OWNER_REFS), OWNER_REFS.c.line == ROWS.c.line, OWNER_REFS.c.user_id.is_(None)
    )
    first = select(func.min(OWNER_REFS.c.ref)).where(unknown).scalar_subquery()
    fail(
        m,
        exists().where(unknown),
        column=m.header(OWNERS, m.header(OWNER_IDS, OWNERS)),
        value=first,
        reason=literal("no user with email or external id ") + first,
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


def resolve_parents(m: Merge) -> None:
    """Parent refs to existing accounts or to good rows of the file; unknown ones fail."""
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
    m.session.execute(
        update(ROWS)
        .where(m.good(), ROWS.c.parent_ref.is_not(None))
        .values(parent_key=func.coalesce(by_account.scalar_subquery(), by_row.scalar_subquery()))
    )
    column = m.header(PARENT, PARENT)
    fail(
        m,
        and_(ROWS.c.parent_ref.is_not(None), ROWS.c.parent_key.is_(None)),
        column=column,
        value=ROWS.c.parent_ref,
        reason=literal("no account with this external id, in the database or in a good row"),
    )
    m.session.execute(_CASCADE, {"i": m.import_id, "col": column})
    current = select(ACCOUNTS.c.parent_id).where(ACCOUNTS.c.id == ROWS.c.account_id)
    m.session.execute(
        update(ROWS)
        .where(
            m.good(),
            or_(
                and_(ROWS.c.account_id.is_(None), ROWS.c.parent_key.is_not(None)),
                and_(
                    ROWS.c.account_id.is_not(None),
                    current.scalar_subquery().is_distinct_from(ROWS.c.parent_key),
                ),
            ),
        )
        .values(moved=True)
    )
    m.session.execute(_CYCLES, {"i": m.import_id, "col": column})


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

# Walk up from every moved row through the future hierarchy (the file's parents for good
# rows, the stored parents for all other accounts). A row on a cycle, or whose chain runs
# into one, is refused; UNION (not UNION ALL) makes the walk end even inside a cycle.
_CYCLES = text(
    """
WITH RECURSIVE chain(start, cur) AS (
    SELECT node_key, parent_key FROM import_rows
    WHERE import_id = :i AND moved AND NOT failed AND parent_key IS NOT NULL
    UNION
    SELECT c.start,
        CASE WHEN EXISTS (SELECT 1 FROM import_rows r
                          WHERE r.import_id = :i AND r.node_key = c.cur AND NOT r.failed)
             THEN (SELECT r.parent_key FROM import_rows r
                   WHERE r.import_id = :i AND r.node_key = c.cur AND NOT r.failed)
             ELSE (SELECT a.parent_id FROM accounts a WHERE a.id = c.cur) END
    FROM chain c WHERE c.cur IS NOT NULL
)
UPDATE import_rows SET failed = TRUE, error_column = :col, error_value = parent_ref,
    error_reason = 'this parent would make a cycle in the hierarchy'
WHERE import_id = :i AND moved AND NOT failed AND node_key IN (
    SELECT c.start FROM chain c
    WHERE c.cur IN (SELECT s.start FROM chain s WHERE s.cur = s.start)
)
"""
)


def classify(m: Merge) -> None:
    """Each good row is created, updated (a field, the custom values or the parent changed)
    or unchanged."""
    differences = [ACCOUNTS.c[f].is_distinct_from(ROWS.c[f]) for f in m.fields]
    if m.has_custom:
        merged = merged_custom(m, ACCOUNTS.c.custom, ROWS.c.custom)
        stored = func.json(ACCOUNTS.c.custom) if is_sqlite(m.session) else ACCOUNTS.c.custom
        differences.append(merged.is_distinct_from(stored))
    changed = (
        exists().where(ACCOUNTS.c.id == ROWS.c.account_id, or_(*differences))
        if differences
        else false()
    )
    status = case(
        (ROWS.c.account_id.is_(None), literal("created")),
        (or_(ROWS.c.moved == true(), changed), literal("updated")),
        else_=literal("unchanged"),
    )
    m.session.execute(update(ROWS).where(m.good()).values(status=status))


def merged_custom(m: Merge, stored: Any, patch: Any) -> Any:
    """SQL: stored custom values with the file's applied; an empty cell removes the key."""
    if is_sqlite(m.session):
        return func.json_patch(func.coalesce(stored, "{}"), func.coalesce(patch, "{}"))
    base = func.coalesce(stored, cast(literal("{}"), JSONB))
    return func.jsonb_strip_nulls(base.op("||")(cast(func.coalesce(patch, "{}"), JSONB)))


def insert_new(m: Merge) -> None:
    """Insert the created rows as top-level accounts (parents are set afterwards)."""
    staged = [f for f in (*FIELDS, "name_fold")]
    custom = merged_custom(m, null(), ROWS.c.custom) if m.has_custom else _empty_json(m)
    rows = (
        select(
            ROWS.c.external_id,
            *[ROWS.c[f] for f in staged],
            custom,
            literal(0),
            literal(0),
            literal(m.now, UTCDateTime),
        )
        .where(m.mine(), ROWS.c.status == "created")
        .order_by(ROWS.c.line)
    )
    columns = ["external_id", *staged, "custom", "depth", "ownership_version", "created_at"]
    m.session.execute(insert(ACCOUNTS).from_select(columns, rows))
    found = select(ACCOUNTS.c.id).where(ACCOUNTS.c.external_id == ROWS.c.external_id)
    m.session.execute(
        update(ROWS)
        .where(m.mine(), ROWS.c.status == "created")
        .values(account_id=found.scalar_subquery())
    )


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
        .where(ACCOUNTS.c.id == ROWS.c.account_id, m.mine(), ROWS.c.status == "updated")
        .values(values)
    )


def move_accounts(m: Merge) -> None:
    """Set the new parents, move the child counts with them, then recompute depths below
    every moved account's top."""
    new_parent = select(EARLIER.c.account_id).where(
        m.mine(EARLIER), EARLIER.c.line == -ROWS.c.parent_key
    )
    m.session.execute(
        update(ROWS)
        .where(m.good(), ROWS.c.moved == true())
        .values(
            parent_id=case(
                (ROWS.c.parent_key < 0, new_parent.scalar_subquery()), else_=ROWS.c.parent_key
            )
        )
    )
    moving = select(ROWS.c.account_id).where(
        m.mine(), ROWS.c.failed == false(), ROWS.c.moved == true()
    )
    shift_child_counts(m.session, children=moving, by=-1)
    m.session.execute(
        update(ACCOUNTS)
        .where(
            ACCOUNTS.c.id == ROWS.c.account_id,
            m.mine(),
            ROWS.c.failed == false(),
            ROWS.c.moved == true(),
        )
        .values(parent_id=ROWS.c.parent_id)
    )
    shift_child_counts(m.session, children=moving, by=1)
    m.session.execute(_DEPTHS, {"i": m.import_id})


_DEPTHS = text(
    """
WITH RECURSIVE up(id, parent_id) AS (
    SELECT a.id, a.parent_id FROM accounts a
    WHERE a.id IN (SELECT account_id FROM import_rows
                   WHERE import_id = :i AND moved AND NOT failed)
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


def record_audit(m: Merge) -> None:
    """One audit event per created or updated account, in one statement."""
    action = case(
        (ROWS.c.status == "created", literal("account.created")), else_=literal("account.updated")
    )
    events = select(
        literal(m.now, UTCDateTime),
        literal(m.actor.id),
        action,
        literal("account"),
        cast(ROWS.c.account_id, String),
        literal({"source": "import"}, JSONType),
    ).where(m.mine(), ROWS.c.status.in_(("created", "updated")))
    m.session.execute(
        insert(table_of(AuditEvent)).from_select(
            ["at", "actor_id", "action", "subject_type", "subject_key", "details"], events
        )
    )


def counts(m: Merge) -> dict[str, int]:
    """Staged rows by outcome: created, updated, unchanged, failed."""
    outcome = func.coalesce(ROWS.c.status, literal("failed"))
    rows = m.session.execute(select(outcome, func.count()).where(m.mine()).group_by(outcome)).all()
    result = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    result.update({str(k): int(v) for k, v in rows})
    return result


def owned_accounts(m: Merge) -> Any:
    """Accounts whose owner cell was not blank (good rows only)."""
    return select(ROWS.c.account_id).where(m.good(), ROWS.c.has_owners == true())


def wanted_owners(m: Merge) -> Any:
    """(account_id, user_id) pairs named by the owner cells of good rows."""
    return (
        select(ROWS.c.account_id.label("account_id"), OWNER_REFS.c.user_id.label("user_id"))
        .join(
            OWNER_REFS,
            and_(OWNER_REFS.c.import_id == ROWS.c.import_id, OWNER_REFS.c.line == ROWS.c.line),
        )
        .where(m.good())
    )


def mark_owner_changes(m: Merge, operation_id: int) -> None:
    """Rows whose owners the import changed count as updated."""
    changes = table_of(OwnershipChange)
    m.session.execute(
        update(ROWS)
        .where(
            m.good(),
            ROWS.c.status == "unchanged",
            ROWS.c.account_id.in_(
                select(changes.c.account_id).where(changes.c.operation_id == operation_id)
            ),
        )
        .values(status="updated")
    )


def inheritance_roots(m: Merge) -> Any:
    """Accounts that may now inherit differently: created, moved, or whose policy changed."""
    policy = m.mapping.has("inherit_policy")
    condition = or_(ROWS.c.status == "created", ROWS.c.moved == true())
    if policy:
        condition = or_(condition, ROWS.c.status == "updated")
    return select(ROWS.c.account_id).where(m.good(), condition)
