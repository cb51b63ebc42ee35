"""Inheritance in the write path: plan the opens and closes that make every inheriting
descendant own exactly what its nearest owning ancestor owns (phase 2 of an operation)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Select,
    and_,
    exists,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from bookwise.assignments.plan import (
    OperationContext,
    close_rows,
    inherits,
    insert_plan,
    is_open,
    lock_accounts,
    plan_rows,
)
from bookwise.models import (
    Account,
    Assignment,
    AssignmentRole,
    PlanRow,
    ScopeRow,
    User,
)

# Aliases are built once: building one per call costs more than the SQL it makes.
_AT_ACCOUNT = aliased(Account, name="at")
_BELOW_ACCOUNT = aliased(Account, name="below")
_CHILD_ACCOUNT = aliased(Account, name="child")
_EXISTING_ASSIGNMENT = aliased(Assignment, name="existing")
_NODE_ACCOUNT = aliased(Account, name="node")
_OWNER_USER = aliased(User, name="owner")
_SOURCE_ROW_ASSIGNMENT = aliased(Assignment, name="source_row")
_STEP_ACCOUNT = aliased(Account, name="step")


def plan_inheritance(
    ctx: OperationContext, *, roots: Select[Any] | None, roots_own: bool = False
) -> None:
    """Phase 2: make every inheriting descendant of ``roots`` own exactly what it inherits.

    ``scope_inheritance`` (find and lock the descendants), then ``plan_inherited_changes``.
    """
    scope_inheritance(ctx, roots=roots, roots_own=roots_own)
    plan_inherited_changes(ctx)


def scope_inheritance(
    ctx: OperationContext, *, roots: Select[Any] | None, roots_own: bool = False
) -> None:
    """Record and lock the inheriting descendants of ``roots``, each with its source.

    ``roots=None`` reconciles the whole database: one walk down from every owning account
    with inheriting children. Otherwise each root's source is found (itself if it owns, else
    its nearest owning ancestor) and every inheriting account at or below a root is paired
    with it (``_walk_from_sources``). Every walk visits each account once, so the cost is
    linear in the accounts reached, even for a deep chain. Opens go only to active CSM-seat
    users.

    ``roots_own`` says no root inherits (phase 1 of assign, unassign, transfer and an import's
    owner cells skips inheriting accounts): each root is then its own source, nothing climbs,
    and no account can be reached twice (the walk down stops at every account that owns).
    """
    session = ctx.session
    default = ctx.default_policy
    node = _NODE_ACCOUNT
    child = _CHILD_ACCOUNT
    if roots is not None and not roots_own:
        walk = _walk_from_sources(default, roots)
        in_scope = and_(walk.c.account_id != walk.c.source_id, walk.c.under_root)
    else:
        if roots is None:
            anchor = select(node.id.label("account_id"), node.id.label("source_id")).where(
                ~inherits(node, default),
                exists().where(child.parent_id == node.id, inherits(child, default)),
            )
        else:
            anchor = select(node.id.label("account_id"), node.id.label("source_id")).where(
                node.id.in_(roots)
            )
        down = anchor.cte("inheritance", recursive=True)
        below = _BELOW_ACCOUNT
        walk = down.union_all(
            select(below.id, down.c.source_id)
            .join(down, below.parent_id == down.c.account_id)
            .where(inherits(below, default))
        )
        in_scope = walk.c.account_id != walk.c.source_id
    scope_rows = select(literal(ctx.op_id), walk.c.account_id, walk.c.source_id).where(in_scope)
    session.execute(
        insert(ScopeRow).from_select(["operation_id", "account_id", "source_id"], scope_rows)
    )
    scoped = select(ScopeRow.account_id).where(ScopeRow.operation_id == ctx.op_id)
    lock_accounts(ctx, scoped)


def _walk_from_sources(default: str, roots: Select[Any]) -> Any:
    """The roots (which may inherit) and their inheriting descendants, each with its source,
    in two linear walks: up from the roots to their sources (each ancestor once), then down
    from those sources along the climbed paths and below the roots (``under_root``).

    Climbing per root, as this once did, made a 5,000-deep chain of roots 12.5 million rows.
    """
    node = _NODE_ACCOUNT
    step = _STEP_ACCOUNT
    climb = select(node.id.label("id")).where(node.id.in_(roots)).cte("climb", recursive=True)
    climb = climb.union(
        select(step.parent_id).join(climb, step.id == climb.c.id).where(inherits(step, default))
    )
    climbed = select(climb.c.id)
    at = _AT_ACCOUNT
    anchor = select(
        at.id.label("account_id"),
        at.id.label("source_id"),
        at.id.in_(roots).label("under_root"),
    ).where(at.id.in_(climbed), ~inherits(at, default))
    walk = anchor.cte("inheritance", recursive=True)
    below = _BELOW_ACCOUNT
    return walk.union_all(
        select(below.id, walk.c.source_id, or_(walk.c.under_root, below.id.in_(roots)))
        .join(walk, below.parent_id == walk.c.account_id)
        .where(inherits(below, default), or_(walk.c.under_root, below.id.in_(climbed)))
    )


def plan_inherited_changes(ctx: OperationContext) -> None:
    """Plan the phase-2 closes and opens of the scoped accounts, from their sources' owners.

    The scope depends on the hierarchy and the policies only, so an operation may find and
    lock it before it applies phase 1 and plan these afterwards: every account it will
    change is then locked before its first write, which takes the overview's counter rows
    (see migration 0008), and no operation waits for an account while holding them.
    """
    inheritable = select(AssignmentRole.name).where(AssignmentRole.inheritable.is_(True))
    source_row = _SOURCE_ROW_ASSIGNMENT
    reason = ctx.reason or "inherited from parent"
    closes = (
        close_rows(ctx, Assignment, phase=2, source="inherited", reason=reason)
        .join(
            ScopeRow,
            and_(ScopeRow.account_id == Assignment.account_id, ScopeRow.operation_id == ctx.op_id),
        )
        .where(
            is_open(),
            Assignment.role.in_(inheritable),
            ~exists().where(
                source_row.account_id == ScopeRow.source_id,
                source_row.user_id == Assignment.user_id,
                source_row.role == Assignment.role,
                source_row.ended_at.is_(None),
            ),
        )
    )
    insert_plan(ctx, closes)
    existing = _EXISTING_ASSIGNMENT
    owner = _OWNER_USER
    opens = (
        plan_rows(
            ctx,
            action="open",
            phase=2,
            account_id=ScopeRow.account_id,
            user_id=source_row.user_id,
            role=source_row.role,
            source="inherited",
            is_primary=source_row.is_primary,
            reason=reason,
        )
        .select_from(ScopeRow)
        .join(source_row, source_row.account_id == ScopeRow.source_id)
        .join(owner, owner.id == source_row.user_id)
        .where(
            ScopeRow.operation_id == ctx.op_id,
            source_row.ended_at.is_(None),
            source_row.role.in_(inheritable),
            owner.active.is_(True),
            owner.csm_seat.is_(True),
            ~exists().where(
                existing.account_id == ScopeRow.account_id,
                existing.user_id == source_row.user_id,
                existing.role == source_row.role,
                existing.ended_at.is_(None),
            ),
        )
    )
    insert_plan(ctx, opens)


def phase_one_accounts(ctx: OperationContext) -> Select[Any]:
    """Accounts whose owners phase 1 changed (the roots of propagation)."""
    return (
        select(PlanRow.account_id)
        .where(PlanRow.operation_id == ctx.op_id, PlanRow.phase == 1)
        .distinct()
    )
