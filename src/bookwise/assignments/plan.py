"""The ownership write path: plan a change set in SQL, apply it, record history.

Every ownership operation (assign, unassign, transfer, policy, re-parenting, reconcile, undo,
and import's owner cells) runs the same fixed sequence of set-based statements:

1. ``start`` inserts the operation row (its id keys the scratch rows below);
2. ``lock_targets`` evaluates the selection once and locks it (PostgreSQL);
3. the caller plans phase-1 opens/closes into ``ownership_plan`` with INSERT … SELECT;
4. ``propagation.scope_inheritance`` walks the inheriting descendants of the touched
   accounts (recursive CTE) and locks them, so that every account the operation changes is
   locked before its first write (which takes the overview's counter rows);
5. ``apply_phase`` closes and opens the phase-1 rows; ``propagation.plan_inherited_changes``
   plans the descendants' opens/closes as phase 2, and ``apply_phase`` applies them;
6. ``finish`` bumps each touched account's version once and writes ``ownership_changes``;
   ``clear_scratch`` deletes the scratch rows.

The number of statements never depends on the number of accounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ClauseElement

from bookwise.accounts.service import id_in
from bookwise.config import DEFAULT_INHERIT_POLICY
from bookwise.db import is_sqlite
from bookwise.models import (
    Account,
    Assignment,
    Operation,
    OwnershipChange,
    PlanRow,
    RequestItem,
    ScopeRow,
    Setting,
    TargetRow,
    User,
    utcnow,
)

# Aliases are built once: building one per call costs more than the SQL it makes.
_ACCOUNT = aliased(Account, name="account")
_CLOSING_PLANROW = aliased(PlanRow, name="closing")
_OWNER_USER = aliased(User, name="owner")
_BELOW_ACCOUNT = aliased(Account, name="below")


DEFAULT_POLICY_KEY = DEFAULT_INHERIT_POLICY  # the database setting, from the settings registry
SAMPLE_SIZE = 20


@dataclass
class OperationContext:
    """State shared by the statements of one operation."""

    session: Session
    operation: Operation
    actor: User
    now: datetime
    default_policy: str
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    # What the operation saw before it wrote (its targets' versions, a parent, a default):
    # part of the fingerprint, so a preview is stale when any of it changed since.
    state: list[str] = field(default_factory=list)

    @property
    def op_id(self) -> int:
        return self.operation.id


def default_policy(session: Session) -> str:
    """The installation's inherit/own default for accounts without their own policy."""
    value = session.scalar(select(Setting.value).where(Setting.key == DEFAULT_POLICY_KEY))
    return str(value or "own")


def start(
    session: Session, *, kind: str, actor: User, parameters: dict[str, Any], reason: str = ""
) -> OperationContext:
    """Insert the operation row; everything the operation writes points at its id."""
    now = database_now(session)
    operation = Operation(
        kind=kind, actor_id=actor.id, created_at=now, parameters=parameters, counts={}
    )
    session.add(operation)
    session.flush()
    return OperationContext(
        session=session,
        operation=operation,
        actor=actor,
        now=now,
        default_policy=default_policy(session),
        reason=reason,
    )


def inherits(account: type[Account] | Any, default: str) -> ColumnElement[bool]:
    """SQL: the account follows its parent (has a parent, and its policy is inherit)."""
    return and_(
        account.parent_id.is_not(None),
        func.coalesce(account.inherit_policy, default) == "inherit",
    )


def affected_rows(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE."""
    return int(cast_result(result).rowcount)


def cast_result(result: Result[Any]) -> CursorResult[Any]:
    """The cursor result behind a DML statement's result."""
    assert isinstance(result, CursorResult)
    return result


def is_open() -> ColumnElement[bool]:
    """SQL: the assignment row is current."""
    return Assignment.ended_at.is_(None)


def database_now(session: Session) -> datetime:
    """The time to stamp history with: PostgreSQL's clock (one clock for every app server,
    read after the locks are granted), or this process's clock for SQLite (one host)."""
    if is_sqlite(session):
        return utcnow()
    moment = session.scalar(select(func.clock_timestamp()))
    assert isinstance(moment, datetime)
    return moment


def _advance_clock(ctx: OperationContext) -> None:
    # Called once the locks are held: every change this operation closes was committed
    # before now, so no row can end before it started.
    ctx.now = max(ctx.now, database_now(ctx.session))


def lock_targets(ctx: OperationContext, ids: Select[Any]) -> Select[Any]:
    """Evaluate the selection once, lock its accounts, and return the locked set.

    On PostgreSQL the accounts are locked (``FOR UPDATE``, ascending ids) by the same
    statement that records them, so the operation works on exactly the rows it holds even
    if the selection's query would match others a moment later. That statement also locks
    every inheriting descendant of the selection (recorded as a ``follower``): the accounts
    propagation may change. Locking those in a second pass let two operations take the same
    rows in opposite orders and deadlock. SQLite's write transactions start with BEGIN
    IMMEDIATE: one writer at a time, nothing to lock.
    """
    columns, rows = target_rows(ctx, ids)
    ctx.session.execute(insert(TargetRow).from_select(columns, rows))
    _advance_clock(ctx)
    ctx.state.append(_targets_state(ctx))
    return selected_targets(ctx)


def target_rows(
    ctx: OperationContext, ids: Select[Any]
) -> tuple[list[str], Select[*tuple[Any, ...]]]:
    """The rows of ``operation_targets`` for a selection, and their columns (see
    ``lock_targets``); a test may replace it to take the follower locks away."""
    if is_sqlite(ctx.session):
        return ["operation_id", "account_id"], select(literal(ctx.op_id), Account.id).where(
            Account.id.in_(ids)
        )
    selected = select(Account.id.label("id")).where(Account.id.in_(ids)).cte("selected")
    below = _BELOW_ACCOUNT
    family = select(selected.c.id).cte("family", recursive=True)
    family = family.union(
        select(below.id)
        .join(family, below.parent_id == family.c.id)
        .where(inherits(below, ctx.default_policy))
    )
    follower = ~exists().where(selected.c.id == Account.id)
    rows = (
        select(literal(ctx.op_id), Account.id, follower)
        .where(Account.id.in_(select(family.c.id)))
        .order_by(Account.id)
        .with_for_update(of=Account)
    )
    return ["operation_id", "account_id", "follower"], rows


def selected_targets(ctx: OperationContext) -> Select[Any]:
    """The accounts the operation selected (not the followers locked with them)."""
    return select(TargetRow.account_id).where(
        TargetRow.operation_id == ctx.op_id, TargetRow.follower.is_(False)
    )


def _targets_state(ctx: OperationContext) -> str:
    """A checksum of the selected accounts as they are now: ids, ownership versions,
    policies and parents. An owner added or removed since the preview bumps a version."""
    policy = case((Account.inherit_policy == "inherit", 1), (Account.inherit_policy == "own", 2))
    per_account = (
        cast(Account.id, BigInteger()) * 1_000_003
        + cast(Account.ownership_version, BigInteger()) * 10_007
        + func.coalesce(policy, 0) * 101
        + cast(func.coalesce(Account.parent_id, 0), BigInteger()) * 7
    ) % 1_000_000_007
    row = ctx.session.execute(
        select(func.count(), func.coalesce(func.sum(per_account), 0))
        .select_from(TargetRow)
        .join(Account, Account.id == TargetRow.account_id)
        .where(TargetRow.operation_id == ctx.op_id, TargetRow.follower.is_(False))
    ).one()
    return f"targets:{row[0]}:{row[1]}"


def count_targets(ctx: OperationContext) -> int:
    """How many accounts the operation selected."""
    return int(
        ctx.session.scalar(select(func.count()).select_from(selected_targets(ctx).subquery())) or 0
    )


def lock_accounts(ctx: OperationContext, ids: Select[Any]) -> None:
    """On PostgreSQL, lock already chosen accounts in ascending id order."""
    if not is_sqlite(ctx.session):
        locked = (
            select(Account.id)
            .where(Account.id.in_(ids))
            .order_by(Account.id)
            .with_for_update()
            .subquery()
        )
        ctx.session.execute(select(func.count()).select_from(locked))
    _advance_clock(ctx)


# --- explicit ids ------------------------------------------------------------------------


def load_refs(ctx: OperationContext, refs: list[str | int]) -> Select[Any]:
    """Store the requested ids in order, resolve them, and return a Select of found ids.

    A string is an external id, else (all digits) an id; an int or ``#123`` is only an id.
    """
    if refs:
        rows = [_request_row(ctx.op_id, position, ref) for position, ref in enumerate(refs)]
        # Core executemany: one statement for the whole list (the ORM would send one per row).
        ctx.session.execute(insert(RequestItem.__table__), rows)  # type: ignore[arg-type]
        by_external = (
            select(Account.id)
            .where(Account.external_id == RequestItem.ref, ~RequestItem.ref.startswith("#"))
            .scalar_subquery()
        )
        by_id = select(Account.id).where(Account.id == RequestItem.ref_id).scalar_subquery()
        ctx.session.execute(
            update(RequestItem)
            .where(RequestItem.operation_id == ctx.op_id)
            .values(account_id=func.coalesce(by_external, by_id))
            .execution_options(synchronize_session=False)
        )
    return select(RequestItem.account_id).where(
        RequestItem.operation_id == ctx.op_id, RequestItem.account_id.is_not(None)
    )


def _request_row(op_id: int, position: int, ref: str | int) -> dict[str, Any]:
    text = f"#{ref}" if isinstance(ref, int) else str(ref).strip()
    return {
        "operation_id": op_id,
        "position": position,
        "ref": text,
        "ref_id": id_in(text.removeprefix("#")),
    }


# --- planning helpers ----------------------------------------------------------------------

PlanAction = Literal["open", "close"]


def _sql(value: Any) -> Any:
    """A column expression as is; a Python value as a bound literal."""
    if isinstance(value, ClauseElement) or hasattr(value, "__clause_element__"):
        return value
    return literal(value)


def plan_rows(
    ctx: OperationContext,
    *,
    action: PlanAction,
    phase: int,
    account_id: Any,
    user_id: Any,
    role: Any,
    source: Any,
    is_primary: Any = False,
    assignment_id: Any = None,
    reason: Any = None,
) -> Select[Any]:
    """A Select of planned rows, one column per ``ownership_plan`` field, named.

    Each argument is a column expression or a plain value (bound as a literal); callers add
    their FROM, joins and WHERE. A close names the assignment row it ends.
    """
    if (action == "close") != (assignment_id is not None):
        raise ValueError("a planned close names its assignment row, and only a close does")
    values: dict[str, Any] = {
        "operation_id": ctx.op_id,
        "account_id": account_id,
        "user_id": user_id,
        "role": role,
        "action": action,
        "phase": phase,
        "source": source,
        "reason": ctx.reason if reason is None else reason,
        "is_primary": is_primary,
    }
    if assignment_id is not None:
        values["assignment_id"] = assignment_id
    return select(*(_sql(value).label(name) for name, value in values.items()))


def close_rows(
    ctx: OperationContext, row: Any, *, phase: int, source: Any, reason: Any = None
) -> Select[Any]:
    """Planned closes of the assignment rows ``row`` (the model or an alias) selects."""
    return plan_rows(
        ctx,
        action="close",
        phase=phase,
        account_id=row.account_id,
        user_id=row.user_id,
        role=row.role,
        source=source,
        is_primary=row.is_primary,
        assignment_id=row.id,
        reason=reason,
    )


def plan_opens(
    ctx: OperationContext,
    *,
    account_ids: Select[Any],
    user_ids: list[int],
    role: str,
    source: str,
    skip_inheriting: bool,
) -> None:
    """Phase 1: open (account, user, role) for every selected account the user lacks."""
    if not user_ids:
        return
    account = _ACCOUNT
    owner = _OWNER_USER
    conditions = [
        account.id.in_(account_ids),
        owner.id.in_(user_ids),
        ~exists().where(
            Assignment.account_id == account.id,
            Assignment.user_id == owner.id,
            Assignment.role == role,
            is_open(),
        ),
    ]
    if skip_inheriting:
        conditions.append(~inherits(account, ctx.default_policy))
    rows = (
        plan_rows(
            ctx,
            action="open",
            phase=1,
            account_id=account.id,
            user_id=owner.id,
            role=role,
            source=source,
        )
        .select_from(account)
        .join(owner, true())  # every selected account × every eligible CSM
        .where(*conditions)
    )
    insert_plan(ctx, rows)


def plan_closes(
    ctx: OperationContext,
    *,
    account_ids: Select[Any] | None,
    user_id: int,
    role: str,
    skip_inheriting: bool,
    source: str = "manual",
) -> None:
    """Phase 1: close the user's open rows on the selected accounts (all, if None)."""
    account = _ACCOUNT
    conditions = [
        Assignment.user_id == user_id,
        Assignment.role == role,
        is_open(),
    ]
    if account_ids is not None:
        conditions.append(Assignment.account_id.in_(account_ids))
    if skip_inheriting:
        conditions.append(~inherits(account, ctx.default_policy))
    rows = (
        close_rows(ctx, Assignment, phase=1, source=source)
        .join(account, account.id == Assignment.account_id)
        .where(*conditions)
    )
    insert_plan(ctx, rows)


def plan_replacements(ctx: OperationContext, *, user_id: int, role: str, source: str) -> None:
    """Phase 1 of a transfer: open ``user_id`` in ``role`` where a planned close of that
    role ends the old owner (a close in another role is another replacement's business).

    Where the new owner already owns the account in the role, nothing opens (the old row
    simply ends).
    """
    closing = _CLOSING_PLANROW
    rows = plan_rows(
        ctx,
        action="open",
        phase=1,
        account_id=closing.account_id,
        user_id=user_id,
        role=role,
        source=source,
        is_primary=closing.is_primary,
    ).where(
        closing.operation_id == ctx.op_id,
        closing.action == "close",
        closing.phase == 1,
        closing.role == role,
        ~exists().where(
            Assignment.account_id == closing.account_id,
            Assignment.user_id == user_id,
            Assignment.role == role,
            is_open(),
        ),
    )
    insert_plan(ctx, rows)


def insert_plan(ctx: OperationContext, rows: Select[Any]) -> None:
    """INSERT … SELECT planned rows built with ``plan_rows`` (columns matched by name)."""
    columns = [str(column.key) for column in rows.selected_columns]
    ctx.session.execute(insert(PlanRow).from_select(columns, rows))


# --- applying ------------------------------------------------------------------------------


def apply_phase(ctx: OperationContext, phase: int) -> None:
    """Close, then open, the rows planned for ``phase`` (closing first frees the primary slot)."""
    planned_closes = select(PlanRow.assignment_id).where(
        PlanRow.operation_id == ctx.op_id, PlanRow.phase == phase, PlanRow.action == "close"
    )
    ctx.session.execute(
        update(Assignment)
        .where(Assignment.id.in_(planned_closes), is_open())
        .values(ended_at=ctx.now, ended_operation_id=ctx.op_id)
        .execution_options(synchronize_session=False)
    )
    opens = select(
        PlanRow.account_id,
        PlanRow.user_id,
        PlanRow.role,
        PlanRow.is_primary,
        PlanRow.source,
        PlanRow.reason,
        literal(ctx.actor.id),
        literal(ctx.op_id),
        literal(ctx.now, type_=Assignment.started_at.type),
    ).where(PlanRow.operation_id == ctx.op_id, PlanRow.phase == phase, PlanRow.action == "open")
    ctx.session.execute(
        insert(Assignment).from_select(
            [
                "account_id",
                "user_id",
                "role",
                "is_primary",
                "source",
                "reason",
                "actor_id",
                "operation_id",
                "started_at",
            ],
            opens,
        )
    )


# --- finishing -----------------------------------------------------------------------------


@dataclass
class Summary:
    """Counts of what an operation changed, and a fingerprint of its change set."""

    accounts_changed: int
    opened: int
    closed: int
    inherited_opened: int
    inherited_closed: int
    fingerprint: str


def finish(ctx: OperationContext) -> Summary:
    """Version every account whose owners changed once and write its chain row."""
    session = ctx.session
    summary = summarise(ctx)
    if summary.accounts_changed:
        changed_ids = select(PlanRow.account_id).where(PlanRow.operation_id == ctx.op_id)
        session.execute(
            update(Account)
            .where(Account.id.in_(changed_ids))
            .values(ownership_version=Account.ownership_version + 1)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            insert(OwnershipChange).from_select(
                ["account_id", "version", "operation_id", "changed_at"],
                select(
                    Account.id,
                    Account.ownership_version,
                    literal(ctx.op_id),
                    literal(ctx.now, type_=OwnershipChange.changed_at.type),
                ).where(Account.id.in_(changed_ids)),
            )
        )
    return summary


def summarise(ctx: OperationContext) -> Summary:
    """Counts per phase and action, and a fingerprint: an order-independent checksum of the
    change set and of the state the operation started from (``ctx.state``)."""
    checksum = func.sum(
        (
            cast(PlanRow.account_id, BigInteger()) * 1_000_003
            + cast(PlanRow.user_id, BigInteger()) * 10_007
            + PlanRow.phase * 31
            + case((PlanRow.action == "open", 1), else_=2)
        )
        % 1_000_000_007
    )
    rows = ctx.session.execute(
        select(PlanRow.phase, PlanRow.action, func.count(), checksum, PlanRow.role)
        .where(PlanRow.operation_id == ctx.op_id)
        .group_by(PlanRow.phase, PlanRow.action, PlanRow.role)
        .order_by(PlanRow.phase, PlanRow.action, PlanRow.role)
    ).all()
    accounts = ctx.session.scalar(
        select(func.count(func.distinct(PlanRow.account_id))).where(
            PlanRow.operation_id == ctx.op_id
        )
    )
    counts = {(phase, action): 0 for phase in (1, 2) for action in ("open", "close")}
    digest = hashlib.sha256()
    for part in ctx.state:
        digest.update(f"{part};".encode())
    for phase, action, count, check, role in rows:
        counts[(phase, action)] += count
        digest.update(f"{phase}:{action}:{role}:{count}:{check};".encode())
    return Summary(
        accounts_changed=int(accounts or 0),
        opened=counts[(1, "open")],
        closed=counts[(1, "close")],
        inherited_opened=counts[(2, "open")],
        inherited_closed=counts[(2, "close")],
        fingerprint=digest.hexdigest()[:16],
    )


def expire_accounts(session: Session) -> None:
    """Set-based statements bypass the ORM: reload any Account this session already holds."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Account):
            session.expire(instance)


def clear_scratch(ctx: OperationContext) -> None:
    """Delete the operation's scratch rows (plan, request items, scope)."""
    for table in (PlanRow, RequestItem, ScopeRow, TargetRow):
        ctx.session.execute(
            delete(table)
            .where(table.operation_id == ctx.op_id)
            .execution_options(synchronize_session=False)
        )
