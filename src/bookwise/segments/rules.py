"""Rules against this database: build the catalog a rule needs, compile it, select with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import ColumnElement, Row, Text, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from bookwise.assignments.selection import AccountQuery
from bookwise.errors import InvalidRule
from bookwise.listing import BoundedCache
from bookwise.models import Account, AssignmentRole, AttributeDefinition, Segment, User
from bookwise.rules import ast
from bookwise.rules.budget import check_json_size
from bookwise.rules.compiler import compile_rule
from bookwise.rules.describe import describe_rule
from bookwise.rules.parser import parse_rule
from bookwise.rules.printer import print_rule
from bookwise.rules.registry import (
    AttributeInfo,
    Catalog,
    FieldSpec,
    SegmentInfo,
    UserInfo,
    builtin_fields,
    custom_field,
    role_field,
    segment_key,
    text_field_names,
    user_key,
)
from bookwise.rules.rewrite import field_names, numbers_as_text, segment_names, user_values

RuleInput = str | dict[str, Any] | ast.Rule
"""A rule as text, as its JSON form, or as an AST."""


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to use: its AST, canonical text, English, and the SQL condition."""

    rule: ast.Rule
    text: str
    english: str
    where: ColumnElement[bool]


def read_rule(rule: RuleInput) -> tuple[ast.Rule, str | None]:
    """The AST of a rule given as text, JSON or AST, and the text it came from (if any)."""
    if isinstance(rule, str):
        return parse_rule(rule), rule
    if isinstance(rule, dict):
        check_json_size(rule)  # before pydantic reads it: no input is too big to refuse
        try:
            return ast.rule_from_json(rule), None
        except ValidationError as exc:
            error = exc.errors()[0]
            path = ".".join(str(p) for p in error["loc"]) or "rule"
            raise InvalidRule(error["msg"], path=path) from None
    return rule, None


def load_catalog(
    session: Session, rules: list[ast.Rule], *, replacing: SegmentInfo | None = None
) -> Catalog:
    """Everything ``rules`` may refer to: attributes, roles, segments, and the users they name.

    ``replacing`` stands in for the saved segment of the same name (an edit being checked).
    At most four small statements, whatever the number of accounts (segments are read only
    when a rule refers to one, users only when a rule names one, attributes and roles only
    when a rule uses a field that is not a standard one, or when no rules are given).
    """
    segments: dict[str, SegmentInfo] = {}
    # Saved segments are read only when a rule refers to one: Core rows, each rule as its
    # stored JSON text, parsed once per text (``_saved_segment``).
    referring = any(segment_names(rule) for rule in rules) or replacing is not None
    for row in session.connection().execute(_SAVED_SEGMENTS) if referring else ():
        segments[row.name_key] = _SEGMENT_INFOS.get(tuple(row), partial(_saved_segment, row))
    if replacing is not None:
        segments[segment_key(replacing.name)] = replacing
    reachable = _reachable(rules, segments)
    attributes: dict[str, AttributeInfo] = {}
    roles: tuple[str, ...] = ()
    # Standard fields resolve without the declared attributes and roles: a listing filtered
    # on them (most are) saves two statements, a round trip each on PostgreSQL.
    # With no rules at all, the caller wants the whole catalog (``available_fields``).
    if not rules or not field_names(reachable) <= builtin_fields().keys():
        attributes = {
            d.name: AttributeInfo(name=d.name, type=d.type, choices=tuple(d.choices or ()))
            for d in session.scalars(select(AttributeDefinition))
        }
        roles = tuple(session.scalars(select(AssignmentRole.name).order_by(AssignmentRole.name)))
    catalog = Catalog(attributes=attributes, roles=roles or ("csm",), segments=segments)
    catalog.users = _users_named(session, reachable, catalog.roles)
    return catalog


# What a rule may refer to in a saved segment, read as it is stored: the rule's JSON as text
# (cast in SQL), so that the text is the key of its parsed form.
_SAVED_SEGMENTS = select(
    Segment.id, Segment.name, Segment.name_key, cast(Segment.rule, Text).label("rule")
)

# Parsed saved segments, keyed by everything they are made of (id, name and the rule's JSON
# text as the database holds it now): a segment edited, renamed or replaced is another key,
# so a kept one is never stale, and the catalog still reads the segments on every call.
# Reading them took 0.1 ms; validating every saved rule's JSON into its AST and loading
# each row into the ORM took the rest of load_catalog's 0.4 ms (scenario 3b,
# docs/performance.md "The fixed cost of a page"). Bounded: segments come from users.
_SEGMENT_INFOS: BoundedCache[SegmentInfo] = BoundedCache(1024)


def _saved_segment(row: Row[*tuple[Any, ...]]) -> SegmentInfo:
    return SegmentInfo(id=row.id, name=row.name, rule=ast.rule_from_json(json.loads(row.rule)))


def _reachable(rules: list[ast.Rule], segments: dict[str, SegmentInfo]) -> list[ast.Rule]:
    """The rules and every segment rule they reach, each once (cycles are caught later)."""
    found = list(rules)
    seen: set[str] = set()
    queue = [name for rule in rules for name in segment_names(rule)]
    while queue:
        key = segment_key(queue.pop())
        if key in seen or key not in segments:
            continue
        seen.add(key)
        found.append(segments[key].rule)
        queue.extend(segment_names(segments[key].rule))
    return found


# Kept, with the keys as one expanding parameter: the same statement every time, so its
# compiled form and result columns are found, not matched again (Core, plain columns).
_USER_KEYS: BindParameter[list[str]] = bindparam("keys", expanding=True)
_NAMED_USERS = select(
    User.id, User.email, User.name, User.active, User.email_fold, User.name_fold
).where(
    User.is_system.is_(False), or_(User.email_fold.in_(_USER_KEYS), User.name_fold.in_(_USER_KEYS))
)


def _users_named(
    session: Session, rules: list[ast.Rule], roles: tuple[str, ...]
) -> dict[str, list[UserInfo]]:
    wanted = {user_key(v) for rule in rules for v in user_values(rule, (*roles, "csm"))}
    if not wanted:
        return {}
    # A value is an email or a full name, matched on the users' fold columns (name_fold
    # holds user_key(name), as users.service and the import match it).
    found: dict[str, list[UserInfo]] = {}
    for user in session.connection().execute(_NAMED_USERS, {"keys": sorted(wanted)}):
        info = UserInfo(id=user.id, email=user.email, name=user.name, active=user.active)
        # A rule may name the same user by email in one place and by name in another.
        for key in sorted({user.email_fold, user.name_fold} & wanted):
            found.setdefault(key, []).append(info)
    return found


def compile_where(session: Session, rule: RuleInput) -> CompiledRule:
    """Parse (if text), type-check and compile a rule against this database's catalog."""
    tree, source = read_rule(rule)
    catalog = load_catalog(session, [tree])
    try:
        where = compile_rule(tree, catalog)
    except InvalidRule as exc:
        raise exc.with_text(source) if source is not None else exc from None
    canonical = numbers_as_text(tree, text_field_names(catalog))
    return CompiledRule(
        rule=canonical,
        text=print_rule(canonical),
        english=describe_rule(canonical, catalog),
        where=where,
    )


def rule_selection(session: Session, rule: RuleInput) -> AccountQuery:
    """Every account the rule matches, as a selection for the assignment services."""
    compiled = compile_where(session, rule)
    return AccountQuery(
        ids=select(Account.id).where(compiled.where), description=f"rule: {compiled.text}"
    )


def segment_rule(session: Session, name: str) -> CompiledRule:
    """The compiled rule of the saved segment ``name`` (live membership)."""
    return compile_where(session, ast.SegmentRef(name=name))


def segment_selection(session: Session, name: str) -> AccountQuery:
    """Every account in the segment right now, as a selection for the assignment services."""
    compiled = segment_rule(session, name)
    return AccountQuery(
        ids=select(Account.id).where(compiled.where), description=f"segment: {name}"
    )


class RuleCheck(BaseModel):
    """A checked rule: canonical text, English, JSON form and how many accounts match now."""

    text: str = Field(description="The rule as text.")
    english: str = Field(description="The rule in words.")
    rule: dict[str, Any] = Field(description="The rule as JSON.")
    matches: int = Field(description="How many accounts match it now.")


def check_rule(session: Session, rule: RuleInput) -> RuleCheck:
    """Validate and describe a rule and count its matches (one counting statement)."""
    compiled = compile_where(session, rule)
    matches = session.scalar(select(func.count()).select_from(Account).where(compiled.where))
    return RuleCheck(
        text=compiled.text,
        english=compiled.english,
        rule=ast.rule_to_json(compiled.rule),
        matches=int(matches or 0),
    )


def available_fields(session: Session) -> list[FieldSpec]:
    """Every field a rule may use here: standard, derived, extra owner roles, custom attributes."""
    catalog = load_catalog(session, [])
    specs = list(builtin_fields().values())
    specs.extend(role_field(role) for role in catalog.roles if role != "csm")
    specs.extend(custom_field(catalog.attributes[name]) for name in sorted(catalog.attributes))
    return specs
