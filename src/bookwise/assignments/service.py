"""Assign, unassign and transfer: the bulk ownership operations of the assignment screen.

Each function is one operation in the caller's transaction; ``dry_run`` runs it inside a
savepoint and rolls back, so a preview is exactly what applying would do.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
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
    Assignment,
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
    targets, _ = plan.count_targets(ctx)
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
