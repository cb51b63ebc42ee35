"""Segments: create, edit, rename, delete; live members; the materialised membership."""

from __future__ import annotations

import logging
from collections.abc import Collection
from contextlib import suppress
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, delete, exists, func, insert, literal, select, update
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from bookwise.accounts.service import rename_attribute as rename_attribute_column
from bookwise.assignments.listing import AccountPage, list_accounts
from bookwise.assignments.plan import affected_rows
from bookwise.audit import AuditAction, record_event
from bookwise.db import is_retryable, is_sqlite, is_statement_timeout
from bookwise.errors import Conflict, InvalidInput, InvalidRule, NotFound
from bookwise.listing import DEFAULT_PAGE_SIZE
from bookwise.models import Account, AttributeDefinition, Segment, SegmentMembership, User, utcnow
from bookwise.models.base import UTCDateTime
from bookwise.rules import ast
from bookwise.rules.compiler import compile_rule
from bookwise.rules.printer import print_rule
from bookwise.rules.registry import Catalog, SegmentInfo, segment_key, suggest, text_field_names
from bookwise.rules.rewrite import numbers_as_text, rename_field, rename_segment, segment_names
from bookwise.segments.rules import RuleInput, compile_where, load_catalog, read_rule

NAME_MAX = 200
log = logging.getLogger("bookwise.segments")


def get_segment(session: Session, name: str) -> Segment:
    """The segment called ``name`` (case, spacing and curly quotes ignored), or NotFound."""
    found = session.scalar(select(Segment).where(Segment.name_key == segment_key(name)))
    if found is None:
        names = list(session.scalars(select(Segment.name)))
        raise NotFound(f"no segment named {name!r}{suggest(name, names)}")
    return found


def list_segments(session: Session) -> list[Segment]:
    """Every segment, by name."""
    return list(session.scalars(select(Segment).order_by(Segment.name_key)))


def _checked(
    session: Session, name: str, rule: RuleInput, *, segment_id: int | None
) -> tuple[ast.Rule, str]:
    """Validate ``rule`` as the rule of segment ``name``: types, users, segments, no cycle."""
    tree, source = read_rule(rule)
    info = SegmentInfo(id=segment_id, name=name, rule=tree)
    catalog = load_catalog(session, [tree], replacing=info)
    try:
        compile_rule(ast.SegmentRef(name=name), catalog)
    except InvalidRule as exc:
        if exc.text is None and source is not None and exc.span is not None:
            raise exc.with_text(source) from None
        raise
    # References are stored under the referenced segment's own spelling of its name.
    for referenced in segment_names(tree):
        tree = rename_segment(
            tree, referenced, catalog.segment(ast.SegmentRef(name=referenced)).name
        )
    tree = numbers_as_text(_users_by_email(tree, catalog), text_field_names(catalog))
    return tree, print_rule(tree)


def _users_by_email(rule: ast.Rule, catalog: Catalog) -> ast.Rule:
    """The rule with each user it names by full name named by email instead.

    A full name is accepted while it is unique; stored as typed, the segment would break the
    day another user with that name is added (and with it every refresh of all segments).
    """
    owners = {*catalog.roles, "csm"}

    def email(value: ast.Value) -> ast.Value:
        if not isinstance(value, ast.StringValue):
            return value
        return value.model_copy(update={"value": catalog.user(value).email})

    if isinstance(rule, ast.And | ast.Or):
        return rule.model_copy(update={"items": [_users_by_email(i, catalog) for i in rule.items]})
    if isinstance(rule, ast.Not):
        return rule.model_copy(update={"item": _users_by_email(rule.item, catalog)})
    if isinstance(rule, ast.AnyChild):
        return rule.model_copy(update={"rule": _users_by_email(rule.rule, catalog)})
    if not isinstance(rule, ast.Condition) or rule.value is None:
        return rule
    field = rule.field
    while field.startswith("parent."):
        field = field.removeprefix("parent.")
    if field not in owners:
        return rule
    values = rule.value
    changed = [email(v) for v in values] if isinstance(values, list) else email(values)
    return rule.model_copy(update={"value": changed})


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise InvalidInput(f"a segment name must be 1 to {NAME_MAX} characters")
    return cleaned


def create_segment(
    session: Session, *, name: str, rule: RuleInput, description: str = "", actor: User
) -> Segment:
    """Save a named rule; it is checked now (unknown fields, users, segments, cycles)."""
    name = _clean_name(name)
    if session.scalar(select(Segment.id).where(Segment.name_key == segment_key(name))):
        raise Conflict(f"a segment named {name!r} already exists")
    tree, text = _checked(session, name, rule, segment_id=None)
    now = utcnow()
    segment = Segment(
        name=name,
        name_key=segment_key(name),
        description=description.strip(),
        rule=ast.rule_to_json(tree),
        rule_text=text,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.SEGMENT_CREATED,
        subject_type="segment",
        subject_key=segment.id,
        details={"name": name, "rule": text},
    )
    return segment


def update_segment(
    session: Session,
    *,
    name: str,
    new_name: str | None = None,
    rule: RuleInput | None = None,
    description: str | None = None,
    actor: User,
) -> Segment:
    """Rename, re-describe or change the rule of a segment; references follow a rename."""
    segment = get_segment(session, name)
    before = {"name": segment.name, "rule": segment.rule_text}
    if new_name is not None:
        _rename(session, segment, _clean_name(new_name))
    if rule is not None:
        tree, text = _checked(session, segment.name, rule, segment_id=segment.id)
        segment.rule, segment.rule_text = ast.rule_to_json(tree), text
    if description is not None:
        segment.description = description.strip()
    segment.updated_at = utcnow()
    session.flush()
    record_event(
        session,
        actor=actor,
        action=AuditAction.SEGMENT_UPDATED,
        subject_type="segment",
        subject_key=segment.id,
        details={"before": before, "after": {"name": segment.name, "rule": segment.rule_text}},
    )
    return segment


def _rename(session: Session, segment: Segment, new_name: str) -> None:
    key = segment_key(new_name)
    clash = session.scalar(select(Segment.id).where(Segment.name_key == key))
    if clash is not None and clash != segment.id:
        raise Conflict(f"a segment named {new_name!r} already exists")
    old_name = segment.name
    for other in list_segments(session):
        tree = ast.rule_from_json(other.rule)
        changed = rename_segment(tree, old_name, new_name)
        if changed != tree:
            other.rule, other.rule_text = ast.rule_to_json(changed), print_rule(changed)
            other.updated_at = utcnow()
    segment.name, segment.name_key = new_name, key


def users_of(session: Session, segment: Segment) -> list[str]:
    """Names of the segments whose rules refer to ``segment`` directly."""
    key = segment.name_key
    return [
        other.name
        for other in list_segments(session)
        if other.id != segment.id
        and any(segment_key(n) == key for n in segment_names(ast.rule_from_json(other.rule)))
    ]


def delete_segment(session: Session, *, name: str, actor: User) -> None:
    """Delete a segment and its membership; refused while another segment refers to it."""
    segment = get_segment(session, name)
    users = users_of(session, segment)
    if users:
        listed = ", ".join(repr(u) for u in users)
        raise Conflict(
            f"segment {segment.name!r} is used by {listed}; change or delete those first"
        )
    session.execute(delete(SegmentMembership).where(SegmentMembership.segment_id == segment.id))
    record_event(
        session,
        actor=actor,
        action=AuditAction.SEGMENT_DELETED,
        subject_type="segment",
        subject_key=segment.id,
        details={"name": segment.name, "rule": segment.rule_text},
    )
    session.delete(segment)
    session.flush()


# --- membership ----------------------------------------------------------------------------


class RefreshResult(BaseModel):
    """What one refresh changed in a segment's materialised membership.

    A segment that could not be refreshed keeps its membership as it was: ``error`` says why,
    and ``refreshed_at`` is still its last refresh (None: never refreshed).
    """

    segment: str = Field(description="The segment's name.")
    entered: int = Field(description="Accounts that became members.")
    left: int = Field(description="Accounts that stopped being members.")
    members: int = Field(description="How many members it has now.")
    refreshed_at: datetime | None = Field(description="When it was refreshed (UTC).")
    error: str | None = Field(default=None, description="Why the refresh failed, if it did.")


def refresh_segments(
    session: Session, *, names: list[str] | None = None, actor: User
) -> list[RefreshResult]:
    """Bring the materialised membership of the named (default: all) segments up to date.

    Per segment, one UPDATE closes the stays of accounts that left and one INSERT … SELECT
    opens stays for accounts that entered, all stamped with the same time. A segment whose
    membership changed gets a ``segment.refreshed`` audit event by ``actor``. A segment that
    cannot be refreshed (its rule is over the budget, or the database refuses it) is reported
    with its ``error`` and left as it was; the others are refreshed all the same.
    """
    segments = [get_segment(session, n) for n in names] if names else list_segments(session)
    # Each segment once (a name may be given twice, in two spellings), locked in id order.
    ordered = sorted({segment.id: segment for segment in segments}.values(), key=lambda s: s.id)
    for segment in ordered:
        lock_segment(session, segment.id)
    # One catalog for every segment refreshed, read after the locks so no rule is stale.
    catalog = load_catalog(session, [ast.SegmentRef(name=s.name) for s in ordered])
    results = [_refresh_alone(session, segment, catalog) for segment in ordered]
    for segment, result in zip(ordered, results, strict=True):
        if result.error is None and (result.entered or result.left):
            record_event(
                session,
                actor=actor,
                action=AuditAction.SEGMENT_REFRESHED,
                subject_type="segment",
                subject_key=segment.id,
                details={"entered": result.entered, "left": result.left, "members": result.members},
            )
    return results


def lock_segment(session: Session, segment_id: int) -> None:
    """On PostgreSQL, hold the segment's row until commit: one refresh of a segment at a time.

    Two concurrent refreshes would both open the same stays (the second then fails on
    ``uq_segment_memberships_current``). SQLite writers are serial already (BEGIN IMMEDIATE).
    A module-level function so that a test can take the guard away and watch the race.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Segment.id).where(Segment.id == segment_id).with_for_update())


def _refresh_alone(session: Session, segment: Segment, catalog: Catalog) -> RefreshResult:
    """Refresh one segment so that its failure changes nothing and stops no other segment."""
    try:
        where = compile_rule(ast.SegmentRef(name=segment.name), catalog)
    except InvalidRule as exc:
        return _not_refreshed(session, segment, exc.reason)
    savepoint = session.begin_nested()
    try:
        result = _refresh(session, segment, where)
    except (OperationalError, DataError) as exc:
        # What a rule may cause: a statement the database refuses, stops or cannot compute.
        # A conflict is retried by the caller (run_write); on SQLite an interrupted write
        # has rolled back the whole transaction, savepoint included: nothing may follow.
        if is_sqlite(session) and not _in_transaction(session):
            with suppress(DBAPIError):
                savepoint.rollback()  # only forgets it: "no such savepoint"
            raise
        savepoint.rollback()
        if is_retryable(exc):
            raise
        if is_statement_timeout(exc):
            reason = "its rule ran past the time limit of a web request (refresh it from the CLI)"
        else:
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            reason = f"the database could not run its rule ({detail})"
        return _not_refreshed(session, segment, reason)
    savepoint.commit()
    return result


def _in_transaction(session: Session) -> bool:
    dbapi = session.connection().connection.dbapi_connection
    return bool(getattr(dbapi, "in_transaction", True))


def _not_refreshed(session: Session, segment: Segment, reason: str) -> RefreshResult:
    message = f"segment {segment.name!r} was not refreshed: {reason}; change its rule"
    log.warning("%s", message)
    members = materialised_counts(session, segment_ids=[segment.id]).get(segment.id, 0)
    return RefreshResult(
        segment=segment.name,
        entered=0,
        left=0,
        members=members,
        refreshed_at=segment.refreshed_at,
        error=message,
    )


def _refresh(session: Session, segment: Segment, where: ColumnElement[bool]) -> RefreshResult:
    now = utcnow()
    current = select(SegmentMembership.account_id).where(
        SegmentMembership.segment_id == segment.id, SegmentMembership.left_at.is_(None)
    )
    left = session.execute(
        update(SegmentMembership)
        .where(
            SegmentMembership.segment_id == segment.id,
            SegmentMembership.left_at.is_(None),
            # NOT EXISTS, not NOT IN: PostgreSQL hashes a NOT IN list only when it fits in
            # work_mem, and otherwise rescans it per member (a 100k-account refresh of
            # "is_child" ran for minutes); NOT EXISTS is an anti-join on both databases.
            ~exists().where(Account.id == SegmentMembership.account_id, where),
        )
        .values(left_at=now)
        .execution_options(synchronize_session=False)
    )
    entered = session.execute(
        insert(SegmentMembership)
        .from_select(
            ["segment_id", "account_id", "entered_at"],
            select(literal(segment.id), Account.id, literal(now, UTCDateTime())).where(
                where,
                ~exists().where(
                    SegmentMembership.segment_id == segment.id,
                    SegmentMembership.account_id == Account.id,
                    SegmentMembership.left_at.is_(None),
                ),
            ),
        )
        # SQLAlchemy keeps an INSERT's rowcount only when asked (psycopg reports -1 without).
        .execution_options(preserve_rowcount=True)
    )
    segment.refreshed_at = now
    session.flush()
    members = session.scalar(select(func.count()).select_from(current.subquery())) or 0
    return RefreshResult(
        segment=segment.name,
        entered=affected_rows(entered),
        left=affected_rows(left),
        members=int(members),
        refreshed_at=now,
    )


def materialised_counts(
    session: Session, *, segment_ids: Collection[int] | None = None
) -> dict[int, int]:
    """Current members per segment (all, or those named) as of each one's last refresh.

    One grouped statement; naming the segments keeps a single segment's page from counting
    every other segment's members too.
    """
    query = select(SegmentMembership.segment_id, func.count()).where(
        SegmentMembership.left_at.is_(None)
    )
    if segment_ids is not None:
        query = query.where(SegmentMembership.segment_id.in_(list(segment_ids)))
    rows = session.execute(query.group_by(SegmentMembership.segment_id)).all()
    return {int(segment_id): int(count) for segment_id, count in rows}


def segment_members(
    session: Session,
    *,
    name: str,
    sort: str = "name",
    limit: int = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> AccountPage:
    """A page of the segment's live members (evaluated now) and their total."""
    segment = get_segment(session, name)
    where = compile_where(session, ast.SegmentRef(name=segment.name)).where
    return list_accounts(session, where=[where], sort=sort, limit=limit, offset=offset)


# --- custom attributes ---------------------------------------------------------------------


def rename_attribute(session: Session, *, old: str, new: str, actor: User) -> list[str]:
    """Rename a custom attribute and migrate every segment rule that uses it.

    Returns the names of the segments whose rules were rewritten.
    """
    definition = session.get(AttributeDefinition, old.strip())
    if definition is None:
        raise NotFound(f"no custom attribute {old!r}")
    rename_attribute_column(session, old=definition.name, new=new.strip(), actor=actor)
    changed = []
    for segment in list_segments(session):
        tree = ast.rule_from_json(segment.rule)
        renamed = rename_field(tree, f"custom.{old.strip()}", f"custom.{new.strip()}")
        if renamed != tree:
            segment.rule, segment.rule_text = ast.rule_to_json(renamed), print_rule(renamed)
            segment.updated_at = utcnow()
            changed.append(segment.name)
    session.flush()
    return changed
