"""The field and operator registries: every name a rule may use, its type and its English.

The documentation's tables are generated from these registries (``bookwise.rules.reference``)
and a test fails when one is undocumented, so the language and its docs cannot drift apart.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, cast

from bookwise.errors import InvalidRule
from bookwise.models.user import fold_name
from bookwise.rules import ast

FieldType = Literal[
    "text", "choice", "number", "money", "date", "datetime", "boolean", "user", "count", "level"
]
FieldKind = Literal[
    "column", "custom", "is_parent", "is_child", "company_level", "owner", "owner_count"
]
TextMatch = Literal["fold_column", "fold", "stored_folded", "exact"]


@dataclass(frozen=True)
class OperatorSpec:
    """One operator: its arity, English, and what it does with an empty value."""

    name: str
    english: str
    arity: Literal["none", "one", "list", "two"]
    doc: str
    empty: str
    complement: str | None = None


_ORDER_EMPTY = "never matches an empty value"
OPERATOR_SPECS: dict[str, OperatorSpec] = {
    spec.name: spec
    for spec in (
        OperatorSpec(
            "=", "is", "one", "equal to (`is` is a synonym: `csm is X`)", _ORDER_EMPTY, "!="
        ),
        OperatorSpec(
            "!=",
            "is not",
            "one",
            "not equal to (`is not`, `<>` are synonyms); exactly `not (field = value)`",
            "matches an empty value (an account with no tier is not tier 1)",
            "=",
        ),
        OperatorSpec("<", "is below", "one", "less than", _ORDER_EMPTY, ">="),
        OperatorSpec("<=", "is at most", "one", "less than or equal to", _ORDER_EMPTY, ">"),
        OperatorSpec(">", "is above", "one", "greater than", _ORDER_EMPTY, "<="),
        OperatorSpec(">=", "is at least", "one", "greater than or equal to", _ORDER_EMPTY, "<"),
        OperatorSpec(
            "in", "is one of", "list", "equal to one of the listed values", _ORDER_EMPTY, "not in"
        ),
        OperatorSpec(
            "not in",
            "is none of",
            "list",
            "equal to none of the listed values; exactly `not (field in (…))`",
            "matches an empty value",
            "in",
        ),
        OperatorSpec(
            "between",
            "is between",
            "two",
            "from the first value to the second, both included",
            _ORDER_EMPTY,
        ),
        OperatorSpec("contains", "contains", "one", "the text contains the value", _ORDER_EMPTY),
        OperatorSpec(
            "starts with", "starts with", "one", "the text begins with the value", _ORDER_EMPTY
        ),
        OperatorSpec(
            "is empty",
            "is empty",
            "none",
            "has no value (for an owner role: no active owner)",
            "matches exactly the empty values",
            "is not empty",
        ),
        OperatorSpec(
            "is not empty",
            "is not empty",
            "none",
            "has a value (for an owner role: at least one active owner)",
            "never matches an empty value",
            "is empty",
        ),
    )
}

_ORDERED = ("=", "!=", "<", "<=", ">", ">=", "between", "is empty", "is not empty")
TYPE_OPERATORS: dict[FieldType, tuple[str, ...]] = {
    "text": ("=", "!=", "in", "not in", "contains", "starts with", "is empty", "is not empty"),
    "choice": ("=", "!=", "in", "not in", "is empty", "is not empty"),
    "number": (*_ORDERED, "in", "not in"),
    "money": (*_ORDERED, "in", "not in"),
    "count": ("=", "!=", "<", "<=", ">", ">=", "between", "in", "not in"),
    "date": _ORDERED,
    "datetime": ("=", "!=", "<", "<=", ">", ">=", "between"),
    "boolean": ("=", "!="),
    "user": ("=", "!=", "in", "not in", "is empty", "is not empty"),
    "level": ("=", "!="),
}
TYPE_DOCS: dict[FieldType, str] = {
    "text": "compared without regard to case; values in quotes (or one bare word)",
    "choice": "one of a fixed set of values, compared without regard to case",
    "number": "a decimal number",
    "money": "an amount in currency units (`mrr > 5000` is more than 5,000.00 a month)",
    "count": "a whole number that is never empty",
    "date": "`YYYY-MM-DD`, `today`, `today + 60 days`, `today - 3 months`",
    "datetime": "a moment, compared by the calendar day in the installation's time zone",
    "boolean": "`true` or `false`; the bare field means `= true`",
    "user": "a user's email, or their exact full name when it is unique",
    "level": "1 (a parent company) or 0 (a child company)",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field a rule can test."""

    name: str
    type: FieldType
    label: str
    doc: str
    kind: FieldKind = "column"
    column: str | None = None
    nullable: bool = True
    text_match: TextMatch = "exact"
    role: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def operators(self) -> tuple[str, ...]:
        """The operators that apply to this field."""
        allowed = TYPE_OPERATORS[self.type]
        if self.type == "boolean" and self.kind == "custom":
            return (*allowed, "is empty", "is not empty")
        if not self.nullable:
            return tuple(op for op in allowed if op not in ("is empty", "is not empty"))
        return allowed


def _column(
    name: str,
    type: FieldType,
    label: str,
    doc: str,
    *,
    nullable: bool = True,
    text_match: TextMatch = "exact",
    column: str | None = None,
) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=type,
        label=label,
        doc=doc,
        column=column or name,
        nullable=nullable,
        text_match=text_match,
    )


STANDARD_FIELDS: tuple[FieldSpec, ...] = (
    _column(
        "name",
        "text",
        "name",
        "the company name",
        nullable=False,
        text_match="fold_column",
        column="name_fold",
    ),
    _column("external_id", "text", "external id", "the CRM id, compared exactly (case matters)"),
    _column("domain", "text", "domain", "the company's web domain", text_match="fold"),
    _column("mrr", "money", "MRR", "monthly recurring revenue, in currency units"),
    _column("health_score", "number", "health score", "0 to 100"),
    _column("tier", "number", "tier", "1, 2, … (1 is the top tier)"),
    _column(
        "lifecycle_stage",
        "choice",
        "lifecycle stage",
        "onboarding, adoption, renewal, …",
        text_match="stored_folded",
    ),
    _column("nps", "number", "NPS", "net promoter score, -100 to 100"),
    _column("csm_rating", "number", "CSM rating", "1 to 5"),
    _column("region", "text", "region", "e.g. EMEA, APAC", text_match="fold"),
    _column("renewal_date", "date", "renewal date", "the next renewal"),
    _column(
        "created_at", "datetime", "creation date", "when the account was created", nullable=False
    ),
    FieldSpec(
        name="inherit_policy",
        type="choice",
        label="inherit policy",
        doc="`inherit` (follows the parent's CSMs) or `own`; empty follows the default",
        column="inherit_policy",
        text_match="stored_folded",
        choices=("inherit", "own"),
    ),
)

DERIVED_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        name="is_parent",
        type="boolean",
        label="is a parent company",
        doc="has at least one child",
        kind="is_parent",
        nullable=False,
    ),
    FieldSpec(
        name="is_child",
        type="boolean",
        label="is a child company",
        doc="has a parent",
        kind="is_child",
        nullable=False,
    ),
    _column("depth", "number", "depth", "0 at the top, 1 for a child, 2 below", nullable=False),
    FieldSpec(
        name="company_level",
        type="level",
        label="company level",
        doc="Custify's wording, written `company level`: 1 is `is_parent`, 0 is `is_child`; "
        "a middle account is both; use `depth` for anything else",
        kind="company_level",
        nullable=False,
    ),
    FieldSpec(
        name="csm",
        type="user",
        label="CSM",
        doc="the account's CSMs: `csm = X` when X is among them; `csm is empty` when no "
        "active user owns it",
        kind="owner",
        role="csm",
    ),
    FieldSpec(
        name="csm_count",
        type="count",
        label="number of CSMs",
        doc="how many active users own the account as CSM, written `csm count`",
        kind="owner_count",
        role="csm",
        nullable=False,
    ),
)


@dataclass(frozen=True)
class AttributeInfo:
    """A declared custom attribute, as the rule compiler needs it."""

    name: str
    type: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserInfo:
    """A user a rule names."""

    id: int
    email: str
    name: str
    active: bool


@dataclass(frozen=True)
class SegmentInfo:
    """A saved segment a rule refers to."""

    id: int | None
    name: str
    rule: ast.Rule


@dataclass
class Catalog:
    """What rules may refer to, resolved by the caller: attributes, roles, users, segments."""

    attributes: dict[str, AttributeInfo] = field(default_factory=dict)
    roles: tuple[str, ...] = ("csm",)
    users: dict[str, list[UserInfo]] = field(default_factory=dict)
    segments: dict[str, SegmentInfo] = field(default_factory=dict)
    today: date | None = None

    def user(self, value: ast.StringValue) -> UserInfo:
        """The user a rule names by email or unique full name; unknown or ambiguous → error."""
        found = self.users.get(user_key(value.value), [])
        if not found:
            raise InvalidRule(f"no user with email or name {value.value!r}", span=value.span)
        if len(found) > 1:
            listed = ", ".join(sorted(u.email for u in found))
            raise InvalidRule(
                f"{value.value!r} is the name of several users ({listed}); use an email",
                span=value.span,
            )
        return found[0]

    def segment(self, ref: ast.SegmentRef) -> SegmentInfo:
        """The segment a rule names; unknown → error with a near-miss suggestion."""
        found = self.segments.get(segment_key(ref.name))
        if found is None:
            names = [s.name for s in self.segments.values()]
            raise InvalidRule(
                f"no segment named {ref.name!r}{suggest(ref.name, names)}", span=ref.span
            )
        return found


def user_key(text: str) -> str:
    """How user references are matched: ``fold_name``, the users' ``name_fold`` column's."""
    return fold_name(text)


def segment_key(name: str) -> str:
    """How segment names are matched: without regard to case, spacing or curly apostrophes."""
    straight = name.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(straight.split()).casefold()


def suggest(name: str, candidates: list[str]) -> str:
    """``; did you mean 'x'?`` for a near miss, else nothing."""
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.7)
    if not close:
        lowered = {c.casefold(): c for c in candidates}
        close = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.7)
        close = [lowered[c] for c in close]
    return f"; did you mean {close[0]!r}?" if close else ""


_BUILTIN = {spec.name: spec for spec in (*STANDARD_FIELDS, *DERIVED_FIELDS)}


def builtin_fields() -> dict[str, FieldSpec]:
    """Every standard and derived field, by name."""
    return dict(_BUILTIN)


def custom_field(info: AttributeInfo) -> FieldSpec:
    """The field spec of a declared custom attribute (``custom.<name>``)."""
    return FieldSpec(
        name=f"custom.{info.name}",
        type=cast(FieldType, info.type),  # attribute types are field types of the same name
        label=info.name.replace("_", " "),
        doc=f"custom attribute ({info.type})",
        kind="custom",
        column=info.name,
        text_match="fold" if info.type == "text" else "exact",
        choices=info.choices,
    )


def role_field(role: str) -> FieldSpec:
    """The field of an extra assignment role, named by the role (``account_manager``)."""
    return FieldSpec(
        name=role,
        type="user",
        label=role.replace("_", " "),
        doc=f"owners in role {role}",
        kind="owner",
        role=role,
    )


def resolve_field(name: str, catalog: Catalog, *, span: ast.Span | None) -> FieldSpec:
    """The spec of ``name`` (without ``parent.`` prefixes); unknown → error with a suggestion."""
    if name in _BUILTIN:
        return _BUILTIN[name]
    if name.startswith("custom."):
        info = catalog.attributes.get(name.removeprefix("custom."))
        if info is not None:
            return custom_field(info)
    elif name in catalog.roles:
        return role_field(name)
    known = known_field_names(catalog)
    hint = suggest(name, known)
    if not hint and name in catalog.attributes:
        hint = f"; custom attributes are written custom.{name}"
    raise InvalidRule(f"unknown field {name!r}{hint}", span=span)


def known_field_names(catalog: Catalog) -> list[str]:
    """Every field name a rule may use with this catalog."""
    names = list(_BUILTIN)
    names.extend(f"custom.{name}" for name in catalog.attributes)
    names.extend(role for role in catalog.roles if role not in _BUILTIN)
    return names


def text_field_names(catalog: Catalog) -> list[str]:
    """The fields that hold text (text and choice), custom attributes included."""
    specs = [*_BUILTIN.values(), *(custom_field(info) for info in catalog.attributes.values())]
    return [spec.name for spec in specs if spec.type in ("text", "choice")]
