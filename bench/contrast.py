"""The contrast row: scenario 4a written the way per-record engines write it.

Open-source assignment engines that work per record load ORM objects, decide in a Python
loop, and walk relationships one account at a time. This is
that shape, written tidily (one query for the matches, one for the CSM's current book, one
per account for its children): the same rows as bookwise's bulk assign — assignments,
inherited rows below, one version bump and one history row per account — checked equal.
"""

from __future__ import annotations

from sqlalchemy import select

from bench.bulk import INHERIT_REASON
from bench.context import Target
from bench.floor import Checkpoint, ownership_digest
from bench.harness import Pair
from bookwise.assignments.plan import default_policy
from bookwise.models import Account, Assignment, Operation, OwnershipChange, utcnow


def assign_per_record(t: Target) -> None:
    """Assign X to every ``tier = 1 and health_score < 50`` account, one object at a time."""
    with t.writing() as session:
        policy = default_policy(session)
        now = utcnow()
        operation = Operation(kind="assign", actor_id=t.actor_id, parameters={}, counts={})
        session.add(operation)
        session.flush()
        owned = set(
            session.scalars(
                select(Assignment.account_id).where(
                    Assignment.user_id == t.csm_id,
                    Assignment.role == "csm",
                    Assignment.ended_at.is_(None),
                )
            )
        )

        def inherits(account: Account) -> bool:
            return account.parent_id is not None and (account.inherit_policy or policy) == "inherit"

        def give(account: Account, source: str, reason: str) -> None:
            session.add(
                Assignment(
                    account_id=account.id,
                    user_id=t.csm_id,
                    role="csm",
                    is_primary=False,
                    source=source,
                    reason=reason,
                    actor_id=t.actor_id,
                    operation_id=operation.id,
                    started_at=now,
                )
            )
            owned.add(account.id)
            account.ownership_version += 1
            session.add(
                OwnershipChange(
                    account_id=account.id,
                    version=account.ownership_version,
                    operation_id=operation.id,
                    changed_at=now,
                )
            )

        def below(account: Account) -> None:
            children = session.scalars(select(Account).where(Account.parent_id == account.id))
            for child in children:
                if inherits(child) and child.id not in owned:
                    give(child, "inherited", INHERIT_REASON)
                    below(child)

        matches = session.scalars(
            select(Account).where(Account.tier == 1, Account.health_score < 50)
        ).all()
        for account in matches:
            if inherits(account) or account.id in owned:
                continue
            give(account, "manual", "")
            below(account)
        operation.accounts_changed = len(owned)


def contrast_pairs(t: Target) -> list[Pair]:
    """The per-record assign beside the same floor as 4a (so its ratio reads beside 4a's)."""
    from bench.bulk import bulk_pairs

    assign = bulk_pairs(t)[0]
    base = Checkpoint(t.floor)

    def per_record() -> int:
        assign_per_record(t)
        return 0

    return [
        Pair(
            "4a contrast: the same assign, per record through the ORM",
            "contrast",
            per_record,
            assign.floor,
            restore=base.restore,
            answer=lambda outcome: outcome[0],
            after=lambda changed: (ownership_digest(t.floor), changed),
        )
    ]
