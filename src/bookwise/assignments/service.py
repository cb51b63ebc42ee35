"""Ownership operations: assign, unassign, transfer, inheritance, undo, deactivation.

Each function is one operation in the caller's transaction; ``dry_run`` runs it inside a
savepoint and rolls back, so a preview is exactly what applying would do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from bookwise.accounts.service import label, set_parent
from bookwise.assignments import plan
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import ChangeRow, ItemOutcome, OperationResult
from bookwise.assignments.selection import AccountQuery, AccountRefs, Selection
from bookwise.errors import Conflict, InvalidInput, NotFound, Refused
from bookwise.models import (
    Account,
    Assignment,
    AssignmentRole,
    Operation,
    PolicyChange,
    Setting,
    User,
)
from bookwise.users.service import set_active

Policy = Literal["inherit", "own"]


@dataclass
class _Extra:
    """What an operation body reports beyond the plan's counts."""

    items: list[ItemOutcome] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    policies_changed: int = 0
    keep_if_unchanged: bool = False


def get_role(session: Session, role: str) -> AssignmentRole:
    """The assignment role, or NotFound listing the configured ones."""
    found = session.get(AssignmentRole, role)
    if found is None:
        names = ", ".join(
            session.scalars(select(AssignmentRole.name).order_by(AssignmentRole.name))
        )
        raise NotFound(f"no assignment role {role!r} (configured roles: {names})")
    return found


def refusal(user: User) -> str | None:
    """Why a user may not receive accounts, as an outcome, or None if they may."""
    if not user.active:
        return "refused_inactive"
    if not user.csm_seat:
        return "refused_no_seat"
    return None


def _refusal_message(user: User, outcome: str) -> str:
    if outcome == "refused_inactive":
        return f"{user.email} is inactive; inactive users never receive new accounts"
    return f"{user.email} has no CSM seat; give them one with `bookwise users set-seat`"


def _run(
    session: Session,
    *,
    kind: str,
    actor: User,
    parameters: dict[str, Any],
    reason: str,
    dry_run: bool,
    expected_fingerprint: str | None,
    body: Callable[[OperationContext], _Extra],
) -> OperationResult:
    savepoint = session.begin_nested() if dry_run else None
    try:
        ctx = plan.start(session, kind=kind, actor=actor, parameters=parameters, reason=reason)
        extra = body(ctx)
        summary = plan.finish(ctx)
        if expected_fingerprint is not None and expected_fingerprint != summary.fingerprint:
            raise Conflict(
                "the accounts this operation would change are no longer those previewed "
                f"(fingerprint {expected_fingerprint} expected, {summary.fingerprint} now); "
                "preview again"
            )
        sample = [ChangeRow(**row) for row in plan.sample_changes(ctx)]
        plan.clear_scratch(ctx)
        counts = extra.counts or {
            "opened": summary.opened + summary.inherited_opened,
            "closed": summary.closed + summary.inherited_closed,
        }
        changed = summary.accounts_changed or extra.policies_changed or extra.keep_if_unchanged
        operation_id: int | None = ctx.op_id
        if changed:
            ctx.operation.counts = counts
            ctx.operation.accounts_changed = summary.accounts_changed
            session.flush()
        else:
            session.execute(delete(Operation).where(Operation.id == ctx.op_id))
            session.expunge(ctx.operation)
            operation_id = None
        result = OperationResult(
            operation_id=operation_id,
            kind=kind,
            dry_run=dry_run,
            accounts_changed=summary.accounts_changed,
            opened=summary.opened,
            closed=summary.closed,
            inherited_opened=summary.inherited_opened,
            inherited_closed=summary.inherited_closed,
            policies_changed=extra.policies_changed,
            counts=counts,
            items=extra.items,
            sample=sample,
            fingerprint=summary.fingerprint,
            messages=ctx.notes,
        )
    except BaseException:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        raise
    if savepoint is not None:
        savepoint.rollback()
    return result


def _selection_ids(ctx: OperationContext, selection: Selection) -> Any:
    if isinstance(selection, AccountRefs):
        return plan.load_refs(ctx, list(selection.refs))
    return selection.ids


def _selection_parameters(selection: Selection | None) -> dict[str, Any]:
    if selection is None:
        return {"selection": "whole book"}
    if isinstance(selection, AccountQuery):
        return {"filter": selection.description}
    return {"ids": len(selection.refs)}


def _outcome_items(
    ctx: OperationContext,
    *,
    users: Sequence[User],
    planned_for: Sequence[User],
    done: str,
    action: str,
    otherwise: str,
    check_inherits: bool,
    refused: dict[int, str],
) -> tuple[list[ItemOutcome], dict[str, int]]:
    """Per id (× CSM) outcomes in request order, and their counts."""
    rows = plan.request_outcomes(
        ctx,
        user_ids=[u.id for u in planned_for],
        done=done,
        action=action,
        otherwise=otherwise,
        check_inherits=check_inherits,
    )
    by_planned = {p.id: u for p, u in zip(planned_for, users, strict=True)}
    order = {u.id: i for i, u in enumerate(users)}
    items: list[ItemOutcome] = []
    counts: dict[str, int] = {}
    ordered = sorted(rows, key=lambda r: (r[0], order[by_planned[r[3]].id]))
    for _position, ref, account_id, planned_user, outcome in ordered:
        user = by_planned[planned_user]
        if account_id is not None and user.id in refused:
            outcome = refused[user.id]
        items.append(ItemOutcome(ref=ref, account_id=account_id, user=user.email, outcome=outcome))
        counts[outcome] = counts.get(outcome, 0) + 1
    return items, counts


def _selection_counts(ctx: OperationContext, done: str, refused: dict[int, str]) -> dict[str, int]:
    summary = plan.summarise(ctx)
    counts = {done: summary.closed if done in {"unassigned", "transferred"} else summary.opened}
    for outcome in refused.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _propagate(ctx: OperationContext, role: AssignmentRole) -> None:
    plan.apply_phase(ctx, 1)
    if role.inheritable:
        plan.plan_inheritance(ctx, roots=plan.phase_one_accounts(ctx))
        plan.apply_phase(ctx, 2)


# --- assign / unassign / transfer ------------------------------------------------------------


def assign_accounts(
    session: Session,
    *,
    selection: Selection,
    csms: Sequence[User],
    actor: User,
    role: str = "csm",
    source: str = "manual",
    reason: str = "",
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Add each CSM to each selected account (never replaces existing owners)."""
    if not csms:
        raise InvalidInput("name at least one CSM to assign to")
    role_row = get_role(session, role)
    refused = {u.id: r for u in csms if (r := refusal(u)) is not None}

    def body(ctx: OperationContext) -> _Extra:
        ids = _selection_ids(ctx, selection)
        plan.lock_accounts(session, ids)
        for user in csms:
            if user.id in refused:
                ctx.notes.append(_refusal_message(user, refused[user.id]))
        plan.plan_opens(
            ctx,
            account_ids=ids,
            user_ids=[u.id for u in csms if u.id not in refused],
            role=role,
            source=source,
            skip_inheriting=role_row.inheritable,
        )
        _propagate(ctx, role_row)
        if isinstance(selection, AccountRefs):
            items, counts = _outcome_items(
                ctx,
                users=csms,
                planned_for=csms,
                done="assigned",
                action="open",
                otherwise="already_assigned",
                check_inherits=role_row.inheritable,
                refused=refused,
            )
            return _Extra(items=items, counts=counts)
        return _Extra(counts=_selection_counts(ctx, "assigned", refused))

    return _run(
        session,
        kind="assign",
        actor=actor,
        parameters={
            **_selection_parameters(selection),
            "to": [u.email for u in csms],
            "role": role,
            "source": source,
        },
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def unassign_accounts(
    session: Session,
    *,
    selection: Selection,
    csm: User,
    actor: User,
    role: str = "csm",
    reason: str = "",
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Remove one CSM from the selected accounts; other owners stay."""
    role_row = get_role(session, role)

    def body(ctx: OperationContext) -> _Extra:
        ids = _selection_ids(ctx, selection)
        plan.lock_accounts(session, ids)
        plan.plan_closes(
            ctx, account_ids=ids, user_id=csm.id, role=role, skip_inheriting=role_row.inheritable
        )
        _propagate(ctx, role_row)
        if isinstance(selection, AccountRefs):
            items, counts = _outcome_items(
                ctx,
                users=[csm],
                planned_for=[csm],
                done="unassigned",
                action="close",
                otherwise="not_assigned",
                check_inherits=role_row.inheritable,
                refused={},
            )
            return _Extra(items=items, counts=counts)
        return _Extra(counts=_selection_counts(ctx, "unassigned", {}))

    return _run(
        session,
        kind="unassign",
        actor=actor,
        parameters={**_selection_parameters(selection), "from": csm.email, "role": role},
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def transfer_accounts(
    session: Session,
    *,
    from_csm: User,
    to_csm: User,
    actor: User,
    selection: Selection | None = None,
    role: str = "csm",
    reason: str = "",
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Replace ``from_csm`` by ``to_csm`` on the selected accounts ``from_csm`` owns.

    Without a selection the whole book moves. Where ``to_csm`` already owns an account,
    ``from_csm``'s row simply ends.
    """
    if from_csm.id == to_csm.id:
        raise InvalidInput(f"cannot transfer from {from_csm.email} to the same user")
    role_row = get_role(session, role)
    refused_outcome = refusal(to_csm)

    def body(ctx: OperationContext) -> _Extra:
        ids = _selection_ids(ctx, selection) if selection is not None else None
        book = select(Assignment.account_id).where(
            Assignment.user_id == from_csm.id, Assignment.role == role, plan.is_open()
        )
        plan.lock_accounts(session, ids if ids is not None else book)
        if refused_outcome is not None:
            ctx.notes.append(_refusal_message(to_csm, refused_outcome))
        else:
            plan.plan_closes(
                ctx,
                account_ids=ids,
                user_id=from_csm.id,
                role=role,
                skip_inheriting=role_row.inheritable,
            )
            plan.plan_replacements(ctx, user_id=to_csm.id, role=role, source="manual")
        _propagate(ctx, role_row)
        refused = {to_csm.id: refused_outcome} if refused_outcome else {}
        if isinstance(selection, AccountRefs):
            items, counts = _outcome_items(
                ctx,
                users=[to_csm],
                planned_for=[from_csm],
                done="transferred",
                action="close",
                otherwise="not_assigned",
                check_inherits=role_row.inheritable,
                refused=refused,
            )
            return _Extra(items=items, counts=counts)
        return _Extra(counts=_selection_counts(ctx, "transferred", refused))

    return _run(
        session,
        kind="transfer",
        actor=actor,
        parameters={
            **_selection_parameters(selection),
            "from": from_csm.email,
            "to": to_csm.email,
            "role": role,
        },
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


# --- inheritance -----------------------------------------------------------------------------


def set_inherit_policy(
    session: Session,
    *,
    selection: Selection,
    policy: Policy | None,
    actor: User,
    dry_run: bool = False,
) -> OperationResult:
    """Set accounts to ``inherit``, ``own`` or (None) the installation default.

    Switching to inherit replaces the account's CSMs by its parent's (history keeps the old
    ones); switching to own keeps its current CSMs as its own.
    """

    def body(ctx: OperationContext) -> _Extra:
        ids = _selection_ids(ctx, selection)
        plan.lock_accounts(session, ids)
        changes = select(
            literal(ctx.op_id), Account.id, Account.inherit_policy, literal(policy)
        ).where(Account.id.in_(ids), Account.inherit_policy.is_distinct_from(policy))
        session.execute(
            insert(PolicyChange).from_select(
                ["operation_id", "account_id", "old_policy", "new_policy"], changes
            )
        )
        changed = select(PolicyChange.account_id).where(PolicyChange.operation_id == ctx.op_id)
        result = session.execute(
            update(Account)
            .where(Account.id.in_(changed))
            .values(inherit_policy=policy)
            .execution_options(synchronize_session=False)
        )
        plan.plan_inheritance(ctx, roots=changed)
        plan.apply_phase(ctx, 2)
        return _Extra(
            counts={"policies_changed": result.rowcount}, policies_changed=result.rowcount
        )

    return _run(
        session,
        kind="set_policy",
        actor=actor,
        parameters={**_selection_parameters(selection), "policy": policy or "default"},
        reason="",
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def move_account(
    session: Session,
    *,
    account: Account,
    parent: Account | None,
    actor: User,
    dry_run: bool = False,
) -> OperationResult:
    """Re-parent an account (cycles refused) and re-apply inheritance to the moved subtree."""
    old_parent = account.parent_id

    def body(ctx: OperationContext) -> _Extra:
        set_parent(session, account=account, parent=parent)
        plan.plan_inheritance(ctx, roots=select(Account.id).where(Account.id == account.id))
        plan.apply_phase(ctx, 2)
        return _Extra(keep_if_unchanged=old_parent != account.parent_id)

    return _run(
        session,
        kind="set_parent",
        actor=actor,
        parameters={
            "account_id": account.id,
            "old_parent_id": old_parent,
            "new_parent_id": parent.id if parent else None,
        },
        reason=f"moved under {label(parent)}" if parent else "made top-level",
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def apply_inheritance(
    session: Session, *, roots: Any, actor: User, reason: str = ""
) -> OperationResult:
    """Re-apply inheritance below (and at) ``roots``, e.g. to a newly created child account."""

    def body(ctx: OperationContext) -> _Extra:
        plan.plan_inheritance(ctx, roots=roots)
        plan.apply_phase(ctx, 2)
        return _Extra()

    return _run(
        session,
        kind="inherit",
        actor=actor,
        parameters={"scope": "new accounts"},
        reason=reason,
        dry_run=False,
        expected_fingerprint=None,
        body=body,
    )


def reconcile_inheritance(
    session: Session, *, actor: User, dry_run: bool = False
) -> OperationResult:
    """Make every inheriting account in the database own exactly what it inherits."""

    def body(ctx: OperationContext) -> _Extra:
        plan.plan_inheritance(ctx, roots=None)
        plan.apply_phase(ctx, 2)
        return _Extra()

    return _run(
        session,
        kind="inherit",
        actor=actor,
        parameters={"scope": "all accounts"},
        reason="",
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def set_default_policy(
    session: Session, *, policy: Policy, actor: User, dry_run: bool = False
) -> OperationResult:
    """Change the installation default (an operation: previewable and undoable)."""
    setting = session.get(Setting, plan.DEFAULT_POLICY_KEY)
    old = setting.value if setting else "own"

    def body(ctx: OperationContext) -> _Extra:
        _store_default(session, policy)
        ctx.default_policy = policy
        plan.plan_inheritance(ctx, roots=None)
        plan.apply_phase(ctx, 2)
        return _Extra(keep_if_unchanged=old != policy)

    return _run(
        session,
        kind="set_default_policy",
        actor=actor,
        parameters={"old": old, "new": policy},
        reason=f"default policy set to {policy}",
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def _store_default(session: Session, policy: str) -> None:
    setting = session.get(Setting, plan.DEFAULT_POLICY_KEY)
    if setting is None:
        session.add(Setting(key=plan.DEFAULT_POLICY_KEY, value=policy))
    else:
        setting.value = policy
    session.flush()


# --- deactivation ----------------------------------------------------------------------------


def deactivate_user(
    session: Session,
    *,
    user: User,
    actor: User,
    transfer_to: User | None = None,
    keep: bool = False,
    dry_run: bool = False,
) -> OperationResult | None:
    """Deactivate a user; their open accounts move to ``transfer_to`` or stay (``keep``)."""
    roles = list(
        session.scalars(
            select(Assignment.role)
            .where(Assignment.user_id == user.id, plan.is_open())
            .distinct()
            .order_by(Assignment.role)
        )
    )
    owned = session.scalar(
        select(func.count(func.distinct(Assignment.account_id))).where(
            Assignment.user_id == user.id, plan.is_open()
        )
    )
    if owned and transfer_to is None and not keep:
        raise Refused(
            f"{user.email} still owns {owned:,} accounts; pass --transfer-to EMAIL to move "
            "them, or --keep to leave them (they will show under no-one, owner inactive)"
        )
    if transfer_to is not None and (why := refusal(transfer_to)):
        raise Refused(_refusal_message(transfer_to, why))
    if transfer_to is not None and transfer_to.id == user.id:
        raise InvalidInput("cannot transfer a user's accounts to themselves")
    result: OperationResult | None = None
    savepoint = session.begin_nested() if dry_run else None
    try:
        if transfer_to is not None and roles:
            target = transfer_to

            def body(ctx: OperationContext) -> _Extra:
                book = select(Assignment.account_id).where(
                    Assignment.user_id == user.id, plan.is_open()
                )
                plan.lock_accounts(session, book)
                inheritable = False
                for role in roles:
                    role_row = get_role(session, role)
                    inheritable = inheritable or role_row.inheritable
                    plan.plan_closes(
                        ctx,
                        account_ids=None,
                        user_id=user.id,
                        role=role,
                        skip_inheriting=role_row.inheritable,
                    )
                    plan.plan_replacements(ctx, user_id=target.id, role=role, source="manual")
                plan.apply_phase(ctx, 1)
                if inheritable:
                    plan.plan_inheritance(ctx, roots=plan.phase_one_accounts(ctx))
                    plan.apply_phase(ctx, 2)
                return _Extra()

            result = _run(
                session,
                kind="deactivate",
                actor=actor,
                parameters={"user": user.email, "transfer_to": target.email, "roles": roles},
                reason=f"{user.email} deactivated",
                dry_run=False,
                expected_fingerprint=None,
                body=body,
            )
        set_active(session, user=user, active=False)
    except BaseException:
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        raise
    if savepoint is not None:
        savepoint.rollback()
        if result is not None:
            result.dry_run = True
            result.operation_id = None
    return result


# --- undo ------------------------------------------------------------------------------------


def undo_operation(
    session: Session, *, operation_id: int, actor: User, dry_run: bool = False
) -> OperationResult:
    """Restore exactly the ownership an operation replaced, as a new ``undo`` operation.

    Refused, listing the conflicts, when a later operation touched the same
    (account, user, role); all or nothing.
    """
    target = session.get(Operation, operation_id, with_for_update=not _sqlite(session))
    if target is None:
        raise NotFound(f"no operation {operation_id}")
    if target.undone_by_id is not None:
        raise Conflict(
            f"operation {operation_id} was already undone by operation {target.undone_by_id}"
        )
    conflicts = _undo_conflicts(session, operation_id)
    if conflicts:
        listed = ", ".join(f"#{op_id} ({kind})" for op_id, kind in conflicts[:20])
        raise Conflict(
            f"cannot undo operation {operation_id}: later operations changed the same "
            f"accounts and owners: {listed}. Undo those first (newest first).",
            details={"conflicts": [op_id for op_id, _ in conflicts]},
        )

    def body(ctx: OperationContext) -> _Extra:
        ctx.operation.undoes_id = operation_id
        touched = select(Assignment.account_id).where(
            (Assignment.operation_id == operation_id)
            | (Assignment.ended_operation_id == operation_id)
        )
        plan.lock_accounts(session, touched)
        _plan_undo(ctx, operation_id)
        policies = _restore_policies(ctx, operation_id)
        _restore_kind_specific(session, target)
        plan.apply_phase(ctx, 1)
        target.undone_by_id = ctx.op_id
        return _Extra(policies_changed=policies, keep_if_unchanged=True)

    return _run(
        session,
        kind="undo",
        actor=actor,
        parameters={"undoes": operation_id, "undone_kind": target.kind},
        reason=f"undo of operation {operation_id}",
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _undo_conflicts(session: Session, operation_id: int) -> list[tuple[int, str]]:
    """Later operations that opened or closed a row of an (account, user, role) this one did."""
    mine = (
        select(Assignment.account_id, Assignment.user_id, Assignment.role)
        .where(
            (Assignment.operation_id == operation_id)
            | (Assignment.ended_operation_id == operation_id)
        )
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(Operation.id, Operation.kind)
        .where(
            Operation.id.in_(
                select(Assignment.operation_id)
                .join(
                    mine,
                    (mine.c.account_id == Assignment.account_id)
                    & (mine.c.user_id == Assignment.user_id)
                    & (mine.c.role == Assignment.role),
                )
                .where(Assignment.operation_id > operation_id)
                .union(
                    select(Assignment.ended_operation_id)
                    .join(
                        mine,
                        (mine.c.account_id == Assignment.account_id)
                        & (mine.c.user_id == Assignment.user_id)
                        & (mine.c.role == Assignment.role),
                    )
                    .where(Assignment.ended_operation_id > operation_id)
                )
            )
        )
        .order_by(Operation.id.desc())
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def _plan_undo(ctx: OperationContext, operation_id: int) -> None:
    """Close what the operation opened (still open); reopen what it closed (now free)."""
    opened = select(
        literal(ctx.op_id),
        Assignment.account_id,
        Assignment.user_id,
        Assignment.role,
        literal("close"),
        literal(1),
        literal("undo"),
        literal(ctx.reason),
        Assignment.is_primary,
        Assignment.id,
    ).where(Assignment.operation_id == operation_id, plan.is_open())
    plan.insert_plan(ctx, opened, with_assignment=True)
    still = aliased(Assignment)
    closed = select(
        literal(ctx.op_id),
        Assignment.account_id,
        Assignment.user_id,
        Assignment.role,
        literal("open"),
        literal(1),
        literal("undo"),
        literal(ctx.reason),
        Assignment.is_primary,
    ).where(
        Assignment.ended_operation_id == operation_id,
        ~exists().where(
            still.account_id == Assignment.account_id,
            still.user_id == Assignment.user_id,
            still.role == Assignment.role,
            still.ended_at.is_(None),
            still.operation_id != operation_id,
        ),
    )
    plan.insert_plan(ctx, closed, with_assignment=False)


def _restore_policies(ctx: OperationContext, operation_id: int) -> int:
    session = ctx.session
    before = aliased(PolicyChange)
    session.execute(
        insert(PolicyChange).from_select(
            ["operation_id", "account_id", "old_policy", "new_policy"],
            select(
                literal(ctx.op_id), before.account_id, before.new_policy, before.old_policy
            ).where(before.operation_id == operation_id),
        )
    )
    old_value = (
        select(PolicyChange.old_policy)
        .where(PolicyChange.operation_id == operation_id, PolicyChange.account_id == Account.id)
        .scalar_subquery()
    )
    result = session.execute(
        update(Account)
        .where(
            Account.id.in_(
                select(PolicyChange.account_id).where(PolicyChange.operation_id == operation_id)
            )
        )
        .values(inherit_policy=old_value)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def _restore_kind_specific(session: Session, target: Operation) -> None:
    """Put back what the operation changed beside ownership: a parent link or the default."""
    if target.kind == "set_parent":
        account = session.get(Account, target.parameters["account_id"])
        old_parent_id = target.parameters.get("old_parent_id")
        if account is not None:
            parent = session.get(Account, old_parent_id) if old_parent_id else None
            set_parent(session, account=account, parent=parent)
    elif target.kind == "set_default_policy":
        _store_default(session, str(target.parameters["old"]))
