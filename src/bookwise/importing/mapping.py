"""Which column of a file feeds which account field: our names, Salesforce, HubSpot, --map."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bookwise.accounts.schemas import VALUE_FIELDS
from bookwise.errors import InvalidInput

OWNERS = "csms"
OWNER_IDS = "owner_ids"
PARENT = "parent_external_id"
STANDARD = (
    "external_id",
    "name",
    PARENT,
    *VALUE_FIELDS,
    OWNERS,
)

# Header (compared without case, spaces or underscores) -> field.
ALIASES: dict[str, str] = {
    # our own names are added below; Salesforce Account export
    "id": "external_id",
    "accountid": "external_id",
    "parentid": PARENT,
    "website": "domain",
    "ownerid": OWNER_IDS,
    # HubSpot company export
    "recordid": "external_id",
    "companyname": "name",
    "companydomainname": "domain",
    "websiteurl": "domain",
    "parentcompanyid": PARENT,
    "companyowner": OWNERS,
    "lifecyclestage": "lifecycle_stage",
    # common spellings
    "accountname": "name",
    "owners": OWNERS,
    "owner": OWNERS,
    "csm": OWNERS,
    "owneremail": OWNERS,
    "owneremails": OWNERS,
    "csmemail": OWNERS,
    "csmemails": OWNERS,
    "parentexternalid": PARENT,
    "parent": PARENT,
}
SALESFORCE_ID_HEADERS = frozenset({"id", "accountid", "parentid", "ownerid"})
# A column whose name holds one of these is probably about owners: ignoring it is reported
# prominently (``FileMapping.ignored_owner_columns``), since the owners then stay unchanged.
OWNER_LIKE = ("csm", "owner", "manager")
# Salesforce custom fields (NAME__c) that are standard fields here.
SALESFORCE_CUSTOM: dict[str, str] = {
    "mrr": "mrr",
    "healthscore": "health_score",
    "tier": "tier",
    "lifecyclestage": "lifecycle_stage",
    "nps": "nps",
    "csmrating": "csm_rating",
    "region": "region",
    "renewaldate": "renewal_date",
    "inheritpolicy": "inherit_policy",
}


def header_key(header: str) -> str:
    """A header compared without case, spaces, underscores, dots or hyphens."""
    return re.sub(r"[\s_.\-]+", "", header.strip().casefold())


for _name in STANDARD:
    ALIASES.setdefault(header_key(_name), _name)


@dataclass(frozen=True)
class ColumnMap:
    """One mapped column: where it is, what it feeds, and how its ids are written."""

    index: int
    header: str
    target: str  # a standard field, OWNER_IDS, or "custom.<name>"
    salesforce_id: bool = False


@dataclass
class FileMapping:
    """The mapping of a whole file."""

    columns: list[ColumnMap] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def targets(self) -> set[str]:
        """Every field the file sets."""
        return {c.target for c in self.columns}

    def has(self, target: str) -> bool:
        """True when some column feeds ``target``."""
        return target in self.targets

    @property
    def has_owners(self) -> bool:
        """True when some column names owners (emails, names or external ids)."""
        return self.has(OWNERS) or self.has(OWNER_IDS)

    @property
    def ignored_owner_columns(self) -> list[str]:
        """Ignored columns whose name suggests owners (csm, owner, manager)."""
        return [h for h in self.ignored if any(word in header_key(h) for word in OWNER_LIKE)]


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """``--map SOURCE=FIELD`` options as {header key: field}."""
    result: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise InvalidInput(f"--map {pair!r}: expected SOURCE=FIELD, e.g. 'ARR (USD)=mrr'")
        result[header_key(source)] = target.strip()
    return result


def map_headers(
    header: Sequence[str], *, declared: Iterable[str], overrides: Mapping[str, str]
) -> FileMapping:
    """Map each header to a field; unknown columns are ignored and reported."""
    attributes = {header_key(name): name for name in declared}
    mapping = FileMapping()
    taken: set[str] = set()
    for index, raw in enumerate(header):
        target = _target(raw, attributes, overrides)
        if target is None or target == "ignore" or target in taken:
            mapping.ignored.append(raw)
            continue
        taken.add(target)
        key = header_key(raw)
        mapping.columns.append(
            ColumnMap(index, raw, target, salesforce_id=key in SALESFORCE_ID_HEADERS)
        )
    if "external_id" not in taken:
        raise InvalidInput(
            "no column gives the external id (expected external_id, Id or Record ID, "
            "or name one with --map COLUMN=external_id)"
        )
    return mapping


def _target(raw: str, attributes: Mapping[str, str], overrides: Mapping[str, str]) -> str | None:
    key = header_key(raw)
    stripped = raw.strip()
    # A Salesforce custom field NAME__c: --map may name it by its label (NAME) too.
    base = header_key(stripped[:-3]) if stripped.casefold().endswith("__c") else None
    if key in overrides:
        return _checked(overrides[key], attributes)
    if base is not None and base in overrides:
        return _checked(overrides[base], attributes)
    if stripped.casefold().startswith("custom."):
        return _custom(stripped[len("custom.") :], attributes)
    if base is not None:
        if base in SALESFORCE_CUSTOM:
            return SALESFORCE_CUSTOM[base]
        declared = _custom(stripped[:-3], attributes)
        if declared is None and ALIASES.get(base) == OWNERS:
            # CSM_Email__c, Owner__c: the owner aliases of a column named without __c. Only
            # those: a custom Name__c or Parent__c is rarely the account's own name or parent.
            return OWNERS
        return declared
    if key in ALIASES:
        return ALIASES[key]
    return _custom(stripped, attributes)


def _custom(name: str, attributes: Mapping[str, str]) -> str | None:
    declared = attributes.get(header_key(name))
    return None if declared is None else f"custom.{declared}"


def _checked(target: str, attributes: Mapping[str, str]) -> str:
    if target == "ignore" or target in STANDARD or target == OWNER_IDS:
        return target
    if target.startswith("custom."):
        found = _custom(target[len("custom.") :], attributes)
        if found is None:
            raise InvalidInput(f"--map: no custom attribute {target[7:]!r} (declare it first)")
        return found
    raise InvalidInput(
        f"--map: {target!r} is not a field; use one of {', '.join(STANDARD)}, "
        f"{OWNER_IDS}, custom.NAME or ignore"
    )
