"""Accounts: create, find, custom attributes, and the hierarchy (parent, depth, cycles)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, exists, func, literal, select, update
from sqlalchemy.orm import Session, aliased

from bookwise.accounts.hierarchy import shift_child_counts
from bookwise.accounts.history import record_value_changes
from bookwise.accounts.schemas import STANDARD_FIELDS, AccountFields
from bookwise.audit import AuditAction, record_event
from bookwise.errors import Conflict, InvalidInput, NotFound, Refused, invalid_input
from bookwise.models import (
    ACCOUNT_COUNT_ID,
    ATTRIBUTE_TYPES,
    VALUE_HISTORY_FIELDS,
    Account,
    AccountCount,
    AttributeDefinition,
    User,
    utcnow,
)
from bookwise.money import to_minor_units

# Aliases are built once: building one per call costs more than the SQL it makes.
_CHILD_ACCOUNT = aliased(Account, name="child")
_UP_ACCOUNT = aliased(Account, name="up")


ATTRIBUTE_NAME_MAX = 64


def build_fields(**fields: Any) -> AccountFields:
    """Validate standard fields, turning pydantic's errors into one clear InvalidInput."""
    try:
        return AccountFields.model_validate(fields)
    except ValidationError as exc:
        raise invalid_input(exc) from None


MAX_ID = 2**31 - 1


def id_in(text: str) -> int | None:
    """The account id ``text`` spells (ASCII digits, at most 2³¹-1), else None.

    A larger number names no account, and would overflow the database's integer column.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def find_account(session: Session, ref: str | int) -> Account | None:
    """The account with this external id, else (for a number) this id; ``#123`` is an id."""
    if isinstance(ref, int):
        return session.get(Account, ref) if 0 <= ref <= MAX_ID else None
    if ref.startswith("#") and ref[1:].isdigit():
        number = id_in(ref[1:])
        return session.get(Account, number) if number is not None else None
    account = session.scalar(select(Account).where(Account.external_id == ref))
    if account is None and (number := id_in(ref)) is not None:
        account = session.get(Account, number)
    return account


def get_account(session: Session, ref: str | int) -> Account:
    """The account named by external id or id, or NotFound."""
    account = find_account(session, ref)
    if account is None:
        raise NotFound(f"no account with external id or id {ref!r}")
    return account


def create_account(
    session: Session,
    *,
    fields: AccountFields,
    parent: Account | None = None,
    custom: Mapping[str, str] | None = None,
    actor: User,
    source: str = "create",
) -> Account:
    """Add one account under an optional parent; inheritance is applied by the caller.

    Its first values start its value history (``source``: ``create``, or ``api``)."""
    if fields.external_id is not None and session.scalar(
        select(exists().where(Account.external_id == fields.external_id))
    ):
        raise Conflict(f"an account with external id {fields.external_id!r} already exists")
    values = fields.model_dump()
    account = Account(
        **values,
        name_fold=fields.name.casefold(),
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        custom=validate_custom_values(session, custom or {}),
        ownership_version=0,
    )
    session.add(account)
    session.flush()
    if parent is not None:
        shift_child_counts(session, children=select(literal(account.id)), by=1)
    _record_values(session, account, actor=actor, source=source, now=account.created_at)
    record_event(
        session,
        actor=actor,
        action=AuditAction.ACCOUNT_CREATED,
        subject_type="account",
        subject_key=account.id,
        details={"external_id": account.external_id, "parent_id": account.parent_id},
    )
    return account


EDITABLE_FIELDS = STANDARD_FIELDS
"""What ``update_account`` changes. The parent and the inherit policy change owners, so they
go through their own previewed operations (``move_account``, ``set_inherit_policy``)."""


def update_account(
    session: Session,
    *,
    account: Account,
    changes: Mapping[str, Any],
    custom: Mapping[str, str] | None = None,
    actor: User,
    source: str = "edit",
) -> dict[str, Any]:
    """Change standard fields (``changes``, validated as on create) and custom attributes.

    A blank value clears a field (the name cannot be cleared), and a blank custom value removes
    the attribute. Returns the values that changed (new values, as stored); when any did, an
    ``account.updated`` audit event records them, and the value history (``source``: ``edit``
    or ``api``) the report fields among them.
    """
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"cannot edit {', '.join(unknown)}: the fields are {', '.join(EDITABLE_FIELDS)}"
        )
    # Validated as a whole, so each field means what it means on create (mrr in currency units).
    fields = build_fields(**{"name": account.name, **changes})
    wanted = fields.model_dump(include=set(changes))
    if (
        "external_id" in wanted
        and wanted["external_id"] is not None
        and wanted["external_id"] != account.external_id
        and session.scalar(
            select(
                exists().where(
                    Account.external_id == wanted["external_id"], Account.id != account.id
                )
            )
        )
    ):
        raise Conflict(f"an account with external id {wanted['external_id']!r} already exists")
    changed = {key: value for key, value in wanted.items() if getattr(account, key) != value}
    for key, value in changed.items():
        setattr(account, key, value)
    if "name" in changed:
        account.name_fold = account.name.casefold()
    if custom:
        typed = validate_custom_values(session, custom)
        merged = dict(account.custom or {})
        for key, value in typed.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        if merged != (account.custom or {}):
            changed["custom"] = {key: merged.get(key) for key in typed}
            account.custom = merged
    if changed:
        session.flush()
        if not set(changed).isdisjoint(VALUE_HISTORY_FIELDS):
            _record_values(session, account, actor=actor, source=source, now=utcnow())
        record_event(
            session,
            actor=actor,
            action=AuditAction.ACCOUNT_UPDATED,
            subject_type="account",
            subject_key=account.id,
            details={
                key: value.isoformat() if isinstance(value, date) else value
                for key, value in changed.items()
            },
        )
    return changed


def find_account_by_name(session: Session, text: str) -> Account:
    """The account ``text`` names: an external id, an id (``17``, ``#17``) or an exact name
    (any case); a name that several accounts share is refused with how to tell them apart."""
    wanted = text.strip()
    if not wanted:
        raise InvalidInput("name an account: its external id, #id or exact name")
    found = find_account(session, wanted)
    if found is not None:
        return found
    named = list(
        session.scalars(select(Account).where(Account.name_fold == wanted.casefold()).limit(6))
    )
    if not named:
        raise NotFound(f"no account with external id, id or name {wanted!r}")
    if len(named) > 1:
        refs = ", ".join(a.external_id or f"#{a.id}" for a in named[:5])
        raise InvalidInput(
            f"{len(named) if len(named) < 6 else 'several'} accounts are named {wanted!r} "
            f"({refs}{'…' if len(named) > 5 else ''}): give the external id or #id"
        )
    return named[0]


def is_parent(session: Session, account: Account) -> bool:
    """True when the account has at least one child."""
    return bool(session.scalar(select(exists().where(Account.parent_id == account.id))))


def children(session: Session, account: Account) -> list[Account]:
    """Direct children, by name."""
    query = select(Account).where(Account.parent_id == account.id).order_by(Account.name_fold)
    return list(session.scalars(query))


def set_parent(
    session: Session,
    *,
    account: Account,
    parent: Account | None,
    actor: User,
    operation_id: int | None = None,
    source: str = "move",
    now: datetime | None = None,
) -> None:
    """Move ``account`` (and its subtree) under ``parent``; refuse a cycle; keep depths right.

    A move that changes the parent is recorded as an ``account.moved`` audit event by ``actor``
    and in the value history (``parent_id``, with the ``operation_id`` that moved it) at
    ``now``: the operation's time (the database's clock), else this process's clock.
    """
    serialise_hierarchy_changes(session)
    if parent is not None:
        if parent.id == account.id:
            raise Refused(f"account {label(account)} cannot be its own parent")
        ancestors = select(Account.id, Account.parent_id).where(Account.id == parent.id)
        chain = ancestors.cte("chain", recursive=True)
        up = _UP_ACCOUNT
        chain = chain.union_all(select(up.id, up.parent_id).join(chain, up.id == chain.c.parent_id))
        if session.scalar(select(exists().where(chain.c.id == account.id))):
            raise Refused(
                f"moving {label(account)} under {label(parent)} would make a cycle: "
                f"{label(parent)} is already below {label(account)}"
            )
    old_parent_id, new_parent_id = account.parent_id, parent.id if parent else None
    moved = select(literal(account.id))
    shift_child_counts(session, children=moved, by=-1)
    account.parent_id = new_parent_id
    session.flush()
    shift_child_counts(session, children=moved, by=1)
    _refresh_depths(session, root=account, depth=parent.depth + 1 if parent else 0)
    if old_parent_id != new_parent_id:
        _record_values(
            session,
            account,
            actor=actor,
            source=source,
            now=now or utcnow(),
            operation_id=operation_id,
        )
        record_event(
            session,
            actor=actor,
            action=AuditAction.ACCOUNT_MOVED,
            subject_type="account",
            subject_key=account.id,
            details={"old_parent_id": old_parent_id, "new_parent_id": new_parent_id},
        )


def _record_values(
    session: Session,
    account: Account,
    *,
    actor: User,
    source: str,
    now: datetime,
    operation_id: int | None = None,
) -> None:
    """Write the value history of one account's changed fields (``accounts.history``)."""
    record_value_changes(
        session,
        accounts=select(literal(account.id)),
        actor_id=actor.id,
        source=source,
        now=now,
        operation_id=operation_id,
    )


HIERARCHY_LOCK_KEY = 0x626F6F6B  # "book": one advisory lock for every re-parenting


def serialise_hierarchy_changes(session: Session) -> None:
    """On PostgreSQL, let one transaction at a time change parents.

    Two concurrent moves that each pass the cycle check could together close a cycle
    (A under B while B goes under A through a longer chain); moves are rare, so they are
    serialised with a transaction-scoped advisory lock. SQLite writers are serial already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(HIERARCHY_LOCK_KEY)))


def _refresh_depths(session: Session, *, root: Account, depth: int) -> None:
    """Recompute ``depth`` for ``root`` and every descendant in one statement.

    One walk down the subtree, joined to the accounts it updates (``UPDATE … FROM``): a
    correlated lookup into the walk for each account scanned the walk again per account on
    PostgreSQL, quadratic in the subtree (7 s for a 5,000-deep chain before issue 14).
    """
    sub = select(Account.id, literal(depth).label("d")).where(Account.id == root.id)
    tree = sub.cte("subtree", recursive=True)
    child = _CHILD_ACCOUNT
    tree = tree.union_all(
        select(child.id, (tree.c.d + 1).label("d")).join(tree, child.parent_id == tree.c.id)
    )
    session.execute(
        update(Account)
        .where(Account.id == tree.c.id, Account.depth != tree.c.d)
        .values(depth=tree.c.d)
        .execution_options(synchronize_session=False)
    )
    session.expire(root, ["depth"])


def label(account: Account) -> str:
    """How an account is named in messages: external id if any, else #id, with its name."""
    ref = account.external_id or f"#{account.id}"
    return f"{ref} ({account.name})"


# --- custom attributes -------------------------------------------------------------------


def declare_attribute(
    session: Session,
    *,
    name: str,
    type: str,
    choices: list[str] | None = None,
    description: str = "",
    actor: User,
) -> AttributeDefinition:
    """Declare a custom attribute once, with its type (and choices for ``choice``)."""
    key = name.strip()
    if not key.isidentifier() or len(key) > ATTRIBUTE_NAME_MAX:
        raise InvalidInput(
            f"attribute name {name!r} must be a letter or _ followed by letters, digits or _"
        )
    if type not in ATTRIBUTE_TYPES:
        raise InvalidInput(f"attribute type {type!r} is not one of {', '.join(ATTRIBUTE_TYPES)}")
    if (type == "choice") != bool(choices):
        raise InvalidInput("choices are required for a choice attribute and only for one")
    if session.get(AttributeDefinition, key) is not None:
        raise Conflict(f"custom attribute {key!r} is already declared")
    definition = AttributeDefinition(
        name=key, type=type, choices=list(choices) if choices else None, description=description
    )
    session.add(definition)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.ATTRIBUTE_DECLARED,
        subject_type="attribute",
        subject_key=key,
        details={"type": type, "choices": choices},
    )
    return definition


def rename_attribute(session: Session, *, old: str, new: str, actor: User) -> None:
    """Rename a custom attribute: its declaration and the key in every account, set-based."""
    definition = session.get(AttributeDefinition, old)
    if definition is None:
        raise NotFound(f"no custom attribute {old!r}")
    if not new.isidentifier() or len(new) > ATTRIBUTE_NAME_MAX:
        raise InvalidInput(
            f"attribute name {new!r} must be a letter or _ followed by letters, digits or _"
        )
    if session.get(AttributeDefinition, new) is not None:
        raise Conflict(f"custom attribute {new!r} is already declared")
    session.execute(
        update(AttributeDefinition).where(AttributeDefinition.name == old).values(name=new)
    )
    moved: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        moved = (Account.custom.op("-")(old)).op("||")(
            func.jsonb_build_object(new, Account.custom.op("->")(old))
        )
        has_key = Account.custom.op("?")(old)
    else:
        path_old, path_new = f'$."{old}"', f'$."{new}"'
        moved = func.json_set(
            func.json_remove(Account.custom, path_old),
            path_new,
            func.json(Account.custom.op("->")(path_old)),
        )
        has_key = func.json_type(Account.custom, path_old).is_not(None)
    session.execute(
        update(Account)
        .where(has_key)
        .values(custom=moved)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    record_event(
        session,
        actor=actor,
        action=AuditAction.ATTRIBUTE_RENAMED,
        subject_type="attribute",
        subject_key=new,
        details={"old": old, "new": new},
    )


def list_attributes(session: Session) -> list[AttributeDefinition]:
    """Every declared custom attribute, by name."""
    return list(session.scalars(select(AttributeDefinition).order_by(AttributeDefinition.name)))


def validate_custom_values(session: Session, values: Mapping[str, str]) -> dict[str, Any]:
    """Check each value against its declared type and return the typed JSON values."""
    if not values:
        return {}
    definitions = {
        d.name: d
        for d in session.scalars(
            select(AttributeDefinition).where(AttributeDefinition.name.in_(list(values)))
        )
    }
    typed: dict[str, Any] = {}
    for key, raw in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise InvalidInput(f"custom.{key}: no such custom attribute (declare it first)")
        typed[key] = None if str(raw).strip() == "" else typed_value(definition, str(raw))
    return typed


def typed_value(definition: AttributeDefinition, raw: str) -> Any:
    where = f"custom.{definition.name}"
    text = raw.strip()
    if definition.type == "text":
        return raw
    if definition.type == "number":
        try:
            number = float(text.replace(",", ""))
        except ValueError:
            raise InvalidInput(f"{where}: {raw!r} is not a number") from None
        if not math.isfinite(number):  # JSON has no infinity or NaN (PostgreSQL refused it)
            raise InvalidInput(f"{where}: {raw!r} is not a finite number")
        return int(number) if number.is_integer() else number
    if definition.type == "money":
        return to_minor_units(text, field=where)
    if definition.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidInput(f"{where}: {raw!r} is not a date (YYYY-MM-DD)") from None
    if definition.type == "boolean":
        lowered = text.casefold()
        if lowered in {"true", "yes", "1"}:
            return True
        if lowered in {"false", "no", "0"}:
            return False
        raise InvalidInput(f"{where}: {raw!r} is not true or false")
    # choice: match case-insensitively, store the declared spelling
    for choice in definition.choices or []:
        if choice.casefold() == text.casefold():
            return choice
    raise InvalidInput(f"{where}: {raw!r} is not one of {', '.join(definition.choices or [])}")


def count_accounts(session: Session) -> int:
    """Number of accounts: the counter kept by triggers (one primary-key read, not a scan)."""
    total = session.scalar(select(AccountCount.accounts).where(AccountCount.id == ACCOUNT_COUNT_ID))
    return int(total or 0)
