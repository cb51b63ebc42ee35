"""Each account's ``child_count``, kept beside the parent links it counts.

``is_parent`` (Custify's "company level 1") is ``child_count > 0``: a column test, where a
search of the parent index is slow one way or the other (``IN`` builds the list of every
child, ``EXISTS`` probes once per candidate). Every path that sets or changes a parent moves
the counts in the same transaction, with one set-based statement before and one after
(``shift_child_counts``); ``recount_children`` checks and repairs them from scratch
(``bookwise recount``), and is the last step of a bulk load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, aliased

from bookwise.audit import AuditAction, record_event
from bookwise.models import Account, User

MAX_LISTED = 50  # differences kept on the audit event and printed

_CHILD = aliased(Account, name="child")


def shift_child_counts(session: Session, *, children: Select[Any], by: int) -> None:
    """Add ``by`` to the count of each account that is now the parent of one of ``children``.

    Call with ``by=-1`` before the parents change and ``by=+1`` after: one grouped update
    each, whatever the number of accounts moved.
    """
    moved = (
        select(_CHILD.parent_id.label("parent_id"), func.count().label("n"))
        .where(_CHILD.id.in_(children), _CHILD.parent_id.is_not(None))
        .group_by(_CHILD.parent_id)
        .subquery("moved")
    )
    session.execute(
        update(Account)
        .where(Account.id == moved.c.parent_id)
        .values(child_count=Account.child_count + by * moved.c.n)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class ChildCountReport:
    """Accounts whose stored ``child_count`` was not the number of their children."""

    differing: int
    sample: list[tuple[int, int, int]]  # (account id, stored, counted), at most MAX_LISTED

    def differences(self) -> list[str]:
        """One line per sampled account, for the CLI and the audit event."""
        return [
            f"account #{account}: child_count {stored}, counted {counted}"
            for account, stored, counted in self.sample
        ]


def recount_children(session: Session, *, actor: User, dry_run: bool = False) -> ChildCountReport:
    """Count every account's children from scratch; rewrite the counts that differ
    (unless ``dry_run``) and record the repair as an audit event."""
    counted = (
        select(_CHILD.parent_id.label("id"), func.count().label("n"))
        .where(_CHILD.parent_id.is_not(None))
        .group_by(_CHILD.parent_id)
        .subquery("counted")
    )
    actual = func.coalesce(counted.c.n, 0)
    wrong = (
        select(Account.id, Account.child_count, actual.label("counted"))
        .outerjoin(counted, counted.c.id == Account.id)
        .where(Account.child_count != actual)
    )
    rows = wrong.subquery("wrong")
    differing = int(session.scalar(select(func.count()).select_from(rows)) or 0)
    if not differing:
        return ChildCountReport(0, [])
    sample = session.execute(select(rows).order_by(rows.c.id).limit(MAX_LISTED)).all()
    report = ChildCountReport(differing, [(r.id, r.child_count, r.counted) for r in sample])
    if not dry_run:
        session.execute(
            update(Account)
            .where(Account.id == rows.c.id)
            .values(child_count=rows.c.counted)
            .execution_options(synchronize_session=False)
        )
        record_event(
            session,
            actor=actor,
            action=AuditAction.HIERARCHY_RECOUNTED,
            subject_type="accounts",
            subject_key="child_count",
            details={"differing": differing, "differences": report.differences()},
        )
    return report
