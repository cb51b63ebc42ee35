"""Reports over ownership that answer a question for every owner in one grouped statement."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from bookwise.models import Account, Assignment, User


def children_per_parent_owner(
    session: Session, *, where: list[ColumnElement[bool]], role: str = "csm"
) -> dict[str, int]:
    """Per user (email): how many accounts matching ``where`` have a parent that user owns.

    Custify's recipe, one segment "<X>'s parents" and one "is_child and parent in segment"
    per CSM, answered for every CSM in one grouped statement.
    """
    rows = session.execute(
        select(User.email, func.count())
        .select_from(Account)
        .join(
            Assignment,
            and_(
                Assignment.account_id == Account.parent_id,
                Assignment.role == role,
                Assignment.ended_at.is_(None),
            ),
        )
        .join(User, User.id == Assignment.user_id)
        .where(*where)
        .group_by(User.email)
    ).all()
    return {str(email): int(count) for email, count in rows}
