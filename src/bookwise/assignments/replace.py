"""Set the exact owners of many accounts at once (an import's owner column, later a sync).

Unlike ``assign`` (which only adds) this makes each selected account's open rows in ``role``
exactly the wanted set: owners not wanted are closed, wanted owners missing are opened.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bookwise.assignments import plan
from bookwise.assignments.operation import Extra, get_role, propagate, run_operation
from bookwise.assignments.plan import OperationContext
from bookwise.assignments.schemas import OperationResult
from bookwise.models import Account, Assignment, User

_ACCOUNT = aliased(Account, name="account")
_OWNER = aliased(User, name="owner")


def replace_owners(
    session: Session,
    *,
    accounts: Select[Any],
    wanted: Select[Any],
    actor: User,
    role: str = "csm",
    source: str = "import",
    reason: str = "",
    kind: str = "import",
    parameters: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> OperationResult:
    """Make the ``role`` owners of each account in ``accounts`` exactly its rows in ``wanted``.

    ``wanted`` selects ``(account_id, user_id)`` pairs. Inheriting accounts are skipped and
    counted as ``refused_inherits``; wanted users who are inactive or hold no CSM seat are
    not opened and are counted as ``refused_inactive`` / ``refused_no_seat``. One operation,
    undoable like any other; inheriting descendants follow in the same transaction.
    """
    role_row = get_role(session, role)
    pairs = wanted.subquery("wanted")

    def body(ctx: OperationContext) -> Extra:
        targets = plan.lock_targets(ctx, accounts)
        own = select(_ACCOUNT.id).where(_ACCOUNT.id.in_(targets))
        if role_row.inheritable:
            own = own.where(~plan.inherits(_ACCOUNT, ctx.default_policy))
        closes = plan.close_rows(ctx, Assignment, phase=1, source=source).where(
            Assignment.account_id.in_(own),
            Assignment.role == role,
            plan.is_open(),
            ~exists().where(
                pairs.c.account_id == Assignment.account_id,
                pairs.c.user_id == Assignment.user_id,
            ),
        )
        plan.insert_plan(ctx, closes)
        opens = (
            plan.plan_rows(
                ctx,
                action="open",
                phase=1,
                account_id=pairs.c.account_id,
                user_id=pairs.c.user_id,
                role=role,
                source=source,
            )
            .select_from(pairs)
            .join(_OWNER, _OWNER.id == pairs.c.user_id)
            .where(
                pairs.c.account_id.in_(own),
                _OWNER.active.is_(True),
                _OWNER.csm_seat.is_(True),
                ~exists().where(
                    Assignment.account_id == pairs.c.account_id,
                    Assignment.user_id == pairs.c.user_id,
                    Assignment.role == role,
                    plan.is_open(),
                ),
            )
            .distinct()
        )
        plan.insert_plan(ctx, opens)
        propagate(ctx, inheritable=role_row.inheritable)
        return Extra(
            counts=_counts(ctx, pairs, targets, role, report_inheriting=role_row.inheritable)
        )

    return run_operation(
        session,
        kind=kind,
        actor=actor,
        parameters={**(parameters or {}), "role": role, "source": source},
        reason=reason,
        dry_run=dry_run,
        expected_fingerprint=None,
        body=body,
    )


def _counts(
    ctx: OperationContext, pairs: Any, targets: Select[Any], role: str, *, report_inheriting: bool
) -> dict[str, int]:
    """Opened/closed, plus what was refused and why (one statement)."""
    summary = plan.summarise(ctx)
    counts = {"opened": summary.opened, "closed": summary.closed}
    refused = ctx.session.execute(
        select(
            func.count().filter(_OWNER.active.is_(False)),
            func.count().filter(and_(_OWNER.active.is_(True), _OWNER.csm_seat.is_(False))),
        )
        .select_from(pairs)
        .join(_OWNER, _OWNER.id == pairs.c.user_id)
        .where(pairs.c.account_id.in_(targets))
    ).one()
    if refused[0]:
        counts["refused_inactive"] = int(refused[0])
    if refused[1]:
        counts["refused_no_seat"] = int(refused[1])
    if report_inheriting and (inheriting := _refused_inherits(ctx, pairs, role)):
        counts["refused_inherits"] = inheriting
    return counts


def _refused_inherits(ctx: OperationContext, pairs: Any, role: str) -> int:
    """Selected inheriting accounts whose wanted owners are not the ones they now have: the
    import would have changed them (an inheriting account whose cell names exactly what it
    inherits is not refused, as for assign and transfer)."""
    account = _ACCOUNT
    wanted_missing = exists().where(
        pairs.c.account_id == account.id,
        ~exists().where(
            Assignment.account_id == account.id,
            Assignment.user_id == pairs.c.user_id,
            Assignment.role == role,
            plan.is_open(),
        ),
    )
    unwanted_open = exists().where(
        Assignment.account_id == account.id,
        Assignment.role == role,
        plan.is_open(),
        ~exists().where(pairs.c.account_id == account.id, pairs.c.user_id == Assignment.user_id),
    )
    count = ctx.session.scalar(
        select(func.count())
        .select_from(account)
        .where(
            account.id.in_(plan.selected_targets(ctx)),
            plan.inherits(account, ctx.default_policy),
            or_(wanted_missing, unwanted_open),
        )
    )
    return int(count or 0)
