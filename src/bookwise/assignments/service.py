"""Assign, unassign and transfer: the bulk ownership operations of the assignment screen.

Each function is one operation in the caller's transaction; ``dry_run`` runs it inside a
savepoint and rolls back, so a preview is exactly what applying would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, exists, func, select, true
from sqlalchemy.orm import Session

from bookwise.assignments import outcomes, plan
from bookwise.assignments.operation import (
    Extra,
    get_role,
    propagate,
    refusal,
    refusal_message,
    run_operation,
    selection_ids,
    selection_parameters,
)
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import ItemOutcome, OperationResult
from bookwise.assignments.selection import AccountRefs, Selection
from bookwise.errors import InvalidInput
from bookwise.models import (
    Account,
    Assignment,
    PlanRow,
    RequestItem,
    User,
)


def _outcome_items(
    ctx: OperationContext,
    *,
    users: Sequence[User],
    planned_for: Sequence[User],
    role: str,
    done: str,
    action: str,
    otherwise: str,
    check_inherits: bool,
    refused: dict[int, str],
) -> tuple[list[ItemOutcome], dict[str, int]]:
    """Per id (× CSM) outcomes in request order, and their counts."""
    rows = outcomes.request_outcomes(
        ctx,
        user_ids=[u.id for u in planned_for],
        role=role,
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
    for _position, ref, account_id, planned_user, outcome, followed in ordered:
        user = by_planned[planned_user]
        if account_id is not None and user.id in refused:
            outcome = refused[user.id]
        items.append(
            ItemOutcome(
                ref=ref,
                account_id=account_id,
                user=user.email,
                outcome=outcome,
                follows_parent=followed and outcome == done,
            )
        )
        counts[outcome] = counts.get(outcome, 0) + 1
    return items, counts


def _selection_counts(
    ctx: OperationContext,
    done: str,
    refused: dict[int, str],
    *,
    planned_for: Sequence[User],
    role: str,
    action: str,
    report_inheriting: bool,
) -> dict[str, int]:
    """Outcome counts for a filter selection: per account (× CSM), like the per-id list.

    An inheriting account counts as refused only where the operation would have changed it
    (it neither followed its parent nor already was as wanted).
    """
    summary = plan.summarise(ctx)
    counts = {done: summary.closed if done in {"unassigned", "transferred"} else summary.opened}
    targets = plan.count_targets(ctx)
    for outcome in refused.values():
        counts[outcome] = counts.get(outcome, 0) + targets
    if report_inheriting:
        user_ids = [u.id for u in planned_for if u.id not in refused]
        inheriting = outcomes.refused_inherits_count(
            ctx, user_ids=user_ids, role=role, action=action
        )
        if inheriting:
            counts["refused_inherits"] = inheriting
    return counts


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

    def body(ctx: OperationContext) -> Extra:
        ids = plan.lock_targets(ctx, selection_ids(ctx, selection))
        for user in csms:
            if user.id in refused:
                ctx.notes.append(refusal_message(user, refused[user.id]))
        plan.plan_opens(
            ctx,
            account_ids=ids,
            user_ids=[u.id for u in csms if u.id not in refused],
            role=role,
            source=source,
            skip_inheriting=role_row.inheritable,
        )
        propagate(ctx, inheritable=role_row.inheritable)
        if isinstance(selection, AccountRefs):
            items, counts = _outcome_items(
                ctx,
                users=csms,
                planned_for=csms,
                role=role,
                done="assigned",
                action="open",
                otherwise="already_assigned",
                check_inherits=role_row.inheritable,
                refused=refused,
            )
            return Extra(items=items, counts=counts)
        return Extra(
            counts=_selection_counts(
                ctx,
                "assigned",
                refused,
                planned_for=csms,
                role=role,
                action="open",
                report_inheriting=role_row.inheritable,
            )
        )

    return run_operation(
        session,
        kind="assign",
        actor=actor,
        parameters={
            **selection_parameters(selection),
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

    def body(ctx: OperationContext) -> Extra:
        ids = plan.lock_targets(ctx, selection_ids(ctx, selection))
        plan.plan_closes(
            ctx, account_ids=ids, user_id=csm.id, role=role, skip_inheriting=role_row.inheritable
        )
        propagate(ctx, inheritable=role_row.inheritable)
        if isinstance(selection, AccountRefs):
            items, counts = _outcome_items(
                ctx,
                users=[csm],
                planned_for=[csm],
                role=role,
                done="unassigned",
                action="close",
                otherwise="not_assigned",
                check_inherits=role_row.inheritable,
                refused={},
            )
            return Extra(items=items, counts=counts)
        return Extra(
            counts=_selection_counts(
                ctx,
                "unassigned",
                {},
                planned_for=[csm],
                role=role,
                action="close",
                report_inheriting=role_row.inheritable,
            )
        )

    return run_operation(
        session,
        kind="unassign",
        actor=actor,
        parameters={**selection_parameters(selection), "from": csm.email, "role": role},
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

    def body(ctx: OperationContext) -> Extra:
        ids = selection_ids(ctx, selection) if selection is not None else None
        book = select(Assignment.account_id).where(
            Assignment.user_id == from_csm.id, Assignment.role == role, plan.is_open()
        )
        ids = plan.lock_targets(ctx, ids if ids is not None else book)
        if refused_outcome is not None:
            ctx.notes.append(refusal_message(to_csm, refused_outcome))
        else:
            plan.plan_closes(
                ctx,
                account_ids=ids,
                user_id=from_csm.id,
                role=role,
                skip_inheriting=role_row.inheritable,
            )
            plan.plan_replacements(ctx, user_id=to_csm.id, role=role, source="manual")
        propagate(ctx, inheritable=role_row.inheritable)
        refused = {to_csm.id: refused_outcome} if refused_outcome else {}
        if isinstance(selection, AccountRefs):
            items, counts = _outcome_items(
                ctx,
                users=[to_csm],
                planned_for=[from_csm],
                role=role,
                done="transferred",
                action="close",
                otherwise="not_assigned",
                check_inherits=role_row.inheritable,
                refused=refused,
            )
            return Extra(items=items, counts=counts)
        return Extra(
            counts=_selection_counts(
                ctx,
                "transferred",
                refused,
                planned_for=[from_csm],
                role=role,
                action="close",
                # A refused transfer changed nothing: every account is refused for that.
                report_inheriting=role_row.inheritable and refused_outcome is None,
            )
        )

    return run_operation(
        session,
        kind="transfer",
        actor=actor,
        parameters={
            **selection_parameters(selection),
            "from": from_csm.email,
            "to": to_csm.email,
            "role": role,
        },
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


# --- take over ----------------------------------------------------------------------------


def take_over_accounts(
    session: Session,
    *,
    selection: Selection,
    to_csm: User,
    actor: User,
    role: str = "csm",
    reason: str = "",
    dry_run: bool = False,
    expected_fingerprint: str | None = None,
) -> OperationResult:
    """Make ``to_csm`` the only owner in ``role`` of the selected accounts, in one operation.

    Every other current owner's row ends and ``to_csm`` gets each account they lack: a
    transfer from whoever owns the accounts now (the "Other CSMs" tab's Take over). An
    account ``to_csm`` already owns alone does not change.
    """
    role_row = get_role(session, role)
    refused_outcome = refusal(to_csm)

    def body(ctx: OperationContext) -> Extra:
        ids = plan.lock_targets(ctx, selection_ids(ctx, selection))
        if refused_outcome is not None:
            ctx.notes.append(refusal_message(to_csm, refused_outcome))
        else:
            _plan_others_closed(ctx, account_ids=ids, keep=to_csm, role=role, role_row=role_row)
            plan.plan_opens(
                ctx,
                account_ids=ids,
                user_ids=[to_csm.id],
                role=role,
                source="manual",
                skip_inheriting=role_row.inheritable,
            )
        propagate(ctx, inheritable=role_row.inheritable)
        if isinstance(selection, AccountRefs):
            items, counts = _take_over_items(
                ctx, to_csm=to_csm, refused=refused_outcome, inheritable=role_row.inheritable
            )
            return Extra(items=items, counts=counts)
        summary = plan.summarise(ctx)
        counts = {"transferred": summary.accounts_changed - _followers_changed(ctx)}
        if refused_outcome is not None:
            counts[refused_outcome] = plan.count_targets(ctx)
        elif role_row.inheritable:
            inheriting = outcomes.refused_inherits_count(
                ctx, user_ids=[to_csm.id], role=role, action="open"
            )
            if inheriting:
                counts["refused_inherits"] = inheriting
        return Extra(counts={key: value for key, value in counts.items() if value})

    return run_operation(
        session,
        kind="take_over",
        actor=actor,
        parameters={
            **selection_parameters(selection),
            "from": "every current owner",
            "to": to_csm.email,
            "role": role,
        },
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
        body=body,
    )


def _plan_others_closed(
    ctx: OperationContext, *, account_ids: Any, keep: User, role: str, role_row: Any
) -> None:
    """Phase 1 of a take-over: close every open row in ``role`` on the selected accounts but
    ``keep``'s (inheriting accounts are left to follow their parent)."""
    conditions = [
        Assignment.account_id.in_(account_ids),
        Assignment.user_id != keep.id,
        Assignment.role == role,
        plan.is_open(),
    ]
    if role_row.inheritable:
        conditions.append(~plan.inherits(Account, ctx.default_policy))
    rows = (
        plan.close_rows(ctx, Assignment, phase=1, source="manual")
        .join(Account, Account.id == Assignment.account_id)
        .where(*conditions)
    )
    plan.insert_plan(ctx, rows)


def _followers_changed(ctx: OperationContext) -> int:
    """Accounts that changed only by following their parent (phase 2), not directly."""
    direct = select(PlanRow.account_id).where(PlanRow.operation_id == ctx.op_id, PlanRow.phase == 1)
    count = ctx.session.scalar(
        select(func.count(func.distinct(PlanRow.account_id))).where(
            PlanRow.operation_id == ctx.op_id,
            PlanRow.phase == 2,
            PlanRow.account_id.not_in(direct),
        )
    )
    return int(count or 0)


def _take_over_items(
    ctx: OperationContext, *, to_csm: User, refused: str | None, inheritable: bool
) -> tuple[list[ItemOutcome], dict[str, int]]:
    """Per requested id: transferred (its owners changed), already (``to_csm`` alone owned it),
    refused (``to_csm`` may not receive accounts, or the account follows its parent)."""
    changed = exists().where(
        PlanRow.operation_id == ctx.op_id,
        PlanRow.phase == 1,
        PlanRow.account_id == RequestItem.account_id,
    )
    whens: list[tuple[Any, str]] = [(RequestItem.account_id.is_(None), "not_found")]
    if refused is not None:
        whens.append((true(), refused))
    whens.append((changed, "transferred"))
    if inheritable:
        whens.append((plan.inherits(Account, ctx.default_policy), "refused_inherits"))
    rows = ctx.session.execute(
        select(RequestItem.ref, RequestItem.account_id, case(*whens, else_="already_assigned"))
        .outerjoin(Account, Account.id == RequestItem.account_id)
        .where(RequestItem.operation_id == ctx.op_id)
        .order_by(RequestItem.position)
    ).all()
    items: list[ItemOutcome] = []
    counts: dict[str, int] = {}
    for ref, account_id, outcome in rows:
        items.append(
            ItemOutcome(ref=ref, account_id=account_id, user=to_csm.email, outcome=outcome)
        )
        counts[outcome] = counts.get(outcome, 0) + 1
    return items, counts
