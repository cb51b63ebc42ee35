"""The owners an import's cells name: resolved to users, refused, and handed to replace_owners.

Like the rest of the merge (``merge``), a fixed number of set-based statements whatever the
number of rows; what loops in Python loops over the users a file names, never over rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, false, func, literal, select, true, update

from bookwise.importing.mapping import OWNER_IDS, OWNERS
from bookwise.importing.merge import OWNER_REFS, ROWS, USERS, Merge, fail
from bookwise.importing.staging import table_of
from bookwise.models import OwnershipChange


def resolve_owners(m: Merge) -> None:
    """Owner refs to user ids: by casefolded email or unique full name, or by external id.

    Unknown refs and names several users share fail their row, quoting the cell as written.
    """
    by_email = select(USERS.c.id).where(USERS.c.email_fold == OWNER_REFS.c.ref)
    named = and_(USERS.c.name_fold == OWNER_REFS.c.ref, USERS.c.is_system == false())
    by_name = case(
        (
            select(func.count()).where(named).scalar_subquery() == 1,
            select(func.min(USERS.c.id)).where(named).scalar_subquery(),
        )
    )
    by_id = select(USERS.c.id).where(USERS.c.external_id == OWNER_REFS.c.ref)
    m.session.execute(
        update(OWNER_REFS)
        .where(m.mine(OWNER_REFS))
        .values(
            user_id=case(
                (
                    OWNER_REFS.c.by_email == true(),
                    func.coalesce(by_email.scalar_subquery(), by_name),
                ),
                else_=by_id.scalar_subquery(),
            )
        )
    )
    column = m.header(OWNERS, m.header(OWNER_IDS, OWNERS))
    _refuse_shared_names(m, column)
    unknown = and_(
        m.mine(OWNER_REFS), OWNER_REFS.c.line == ROWS.c.line, OWNER_REFS.c.user_id.is_(None)
    )
    first = (
        select(OWNER_REFS.c.written, OWNER_REFS.c.by_email)
        .where(unknown)
        .order_by(OWNER_REFS.c.position)
        .limit(1)
    )
    written = first.with_only_columns(OWNER_REFS.c.written).scalar_subquery()
    by_email_ref = first.with_only_columns(OWNER_REFS.c.by_email).scalar_subquery()
    fail(
        m,
        exists().where(unknown),
        column=column,
        value=written,
        reason=case(
            (by_email_ref == false(), literal("no user with external id ") + written),
            (written.contains("@"), literal("no user with email ") + written),
            else_=literal("no user with email or name '") + written + literal("'"),
        ),
    )


def _refuse_shared_names(m: Merge, column: str) -> None:
    """A full name several users share fails its rows, listing them (``get_user`` does too).

    One query finds the shared names this file uses (few: a loop over them is over users,
    not rows); one statement fails every row that uses one.
    """
    unresolved = and_(
        m.mine(OWNER_REFS), OWNER_REFS.c.by_email == true(), OWNER_REFS.c.user_id.is_(None)
    )
    pairs = m.session.execute(
        select(OWNER_REFS.c.ref, USERS.c.email)
        .distinct()
        .join(USERS, and_(USERS.c.name_fold == OWNER_REFS.c.ref, USERS.c.is_system == false()))
        .where(unresolved)
    )
    shared: dict[str, list[str]] = {}
    for ref, email in pairs:
        shared.setdefault(ref, []).append(email)
    if not shared:
        return
    mine = and_(unresolved, OWNER_REFS.c.line == ROWS.c.line, OWNER_REFS.c.ref.in_(sorted(shared)))
    first = select(OWNER_REFS.c.ref, OWNER_REFS.c.written).where(mine)
    first = first.order_by(OWNER_REFS.c.position).limit(1)
    ref = first.with_only_columns(OWNER_REFS.c.ref).scalar_subquery()
    written = first.with_only_columns(OWNER_REFS.c.written).scalar_subquery()
    candidates = case(
        {key: literal(", ".join(sorted(emails))) for key, emails in shared.items()}, value=ref
    )
    fail(
        m,
        exists().where(mine),
        column=column,
        value=written,
        reason=literal("'")
        + written
        + literal("' is the name of several users (")
        + candidates
        + literal("); use an email"),
    )


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
