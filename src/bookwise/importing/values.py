"""Turning the cells of one record into typed field values, or errors naming line and column."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bookwise.accounts.service import typed_value
from bookwise.csvsafe import restore
from bookwise.errors import BookwiseError
from bookwise.importing.mapping import OWNER_IDS, OWNERS, PARENT, FileMapping, salesforce_18
from bookwise.importing.reading import MAX_FIELD, Record
from bookwise.models import AttributeDefinition
from bookwise.money import to_minor_units
from bookwise.users.schemas import normalise_email

_TIER = re.compile(r"^(?:tier\s*)?(\d+)$", re.IGNORECASE)
_TEXT_LIMITS = {
    "external_id": 100,
    "name": 300,
    PARENT: 100,
    "domain": 255,
    "lifecycle_stage": 50,
    "region": 50,
}
_RANGES = {"health_score": (0, 100), "nps": (-100, 100), "csm_rating": (1, 5), "tier": (1, 99)}


@dataclass(frozen=True)
class Problem:
    """A value that does not fit: physical line, column header, the value, and why."""

    line: int
    column: str
    value: str
    reason: str


@dataclass
class ParsedRow:
    """A good record: staged values and the owners its owner cell names."""

    values: dict[str, Any]
    owners: list[tuple[str, bool]] = field(default_factory=list)  # (ref, by_email)


@dataclass(frozen=True)
class ValueRules:
    """How cells are read: date format, custom attributes, and whether the file is ours."""

    date_format: str | None
    attributes: Mapping[str, AttributeDefinition]
    exported: bool


def parse_record(
    record: Record, mapping: FileMapping, rules: ValueRules
) -> ParsedRow | list[Problem]:
    """The row's values, or every problem found in it."""
    values: dict[str, Any] = {"line": record.line, "has_owners": False}
    custom: dict[str, Any] = {}
    owners: list[tuple[str, bool]] = []
    problems: list[Problem] = []
    for column in mapping.columns:
        raw = record.cells[column.index] if column.index < len(record.cells) else ""
        if rules.exported and raw[:1] == "'":
            raw = restore(raw)
        try:
            if len(raw) > MAX_FIELD:
                raise ValueError(f"longer than {MAX_FIELD:,} characters")
            _parse_cell(column.target, raw, column.salesforce_id, rules, values, custom, owners)
        except (ValueError, BookwiseError) as exc:
            reason = exc.message if isinstance(exc, BookwiseError) else str(exc)
            problems.append(Problem(record.line, column.header, raw[:200], _short(reason)))
    if problems:
        return problems
    if custom:
        values["custom"] = json.dumps(custom, ensure_ascii=False, separators=(",", ":"))
    values["has_owners"] = bool(owners)
    return ParsedRow(values=values, owners=owners)


def _short(reason: str) -> str:
    # Field parsers prefix their message with the field name; the column says it already.
    head, sep, rest = reason.partition(": ")
    return rest if sep and " " not in head else reason


def _parse_cell(
    target: str,
    raw: str,
    salesforce_id: bool,
    rules: ValueRules,
    values: dict[str, Any],
    custom: dict[str, Any],
    owners: list[tuple[str, bool]],
) -> None:
    text = raw.strip()
    converter = _CONVERTERS.get(target)
    if converter is not None:  # most columns: looked up first
        values[target] = None if not text else converter(target, text, rules)
    elif target.startswith("custom."):
        definition = rules.attributes[target[len("custom.") :]]
        custom[definition.name] = None if not text else typed_value(definition, raw)
    elif target in (OWNERS, OWNER_IDS):
        owners.extend(_owner_refs(target, text, salesforce_id))
    elif target == "external_id":
        if not text:
            raise ValueError("an external id is required on every row")
        values["external_id"] = _text(target, salesforce_18(text) if salesforce_id else text)
    elif target == PARENT:
        ref = salesforce_18(text) if salesforce_id else text
        values["parent_ref"] = _text(target, ref) if ref else None
    elif target == "name":
        if not text:
            raise ValueError("a name is required and cannot be cleared")
        values["name"] = _text(target, text)
        values["name_fold"] = values["name"].casefold()
    else:
        raise AssertionError(f"no parser for {target}")


def _owner_refs(target: str, text: str, salesforce_id: bool) -> list[tuple[str, bool]]:
    refs = [part.strip() for part in re.split(r"[;\n]", text) if part.strip()]
    if target == OWNER_IDS:
        return [(salesforce_18(r) if salesforce_id else r, False) for r in refs]
    return [(normalise_email(r).casefold(), True) for r in refs]


def _text(target: str, text: str) -> str:
    limit = _TEXT_LIMITS.get(target)
    if limit is not None and len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    return text


def _integer(target: str, text: str, _rules: ValueRules) -> int:
    digits = text[1:] if text[:1] == "-" else text
    if digits.isascii() and digits.isdigit():  # the common case, without Decimal or a regex
        whole = int(text)
        low, high = _RANGES[target]
        if not low <= whole <= high:
            raise ValueError(f"{text} is outside {low}..{high}")
        return whole
    match = _TIER.match(text) if target == "tier" else None
    try:
        number = int(match.group(1)) if match else Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a whole number") from None
    if number != int(number):
        raise ValueError(f"{text!r} is not a whole number")
    low, high = _RANGES[target]
    if not low <= int(number) <= high:
        raise ValueError(f"{text} is outside {low}..{high}")
    return int(number)


_DECIMAL_COMMA = re.compile(r",\d{1,2}$|,\d{4,}")


def _money(target: str, text: str, _rules: ValueRules) -> int:
    # "1,797.19" groups thousands; "1797,19" is a decimal comma that would silently read
    # as 179719: refuse it rather than guess.
    if _DECIMAL_COMMA.search(text):
        raise ValueError(f"{text!r} looks like a decimal comma; write 1797.19")
    return to_minor_units(text, field=target)


def _date(target: str, text: str, rules: ValueRules) -> date:
    try:
        if rules.date_format:
            return datetime.strptime(text, rules.date_format).date()
        return date.fromisoformat(text)
    except ValueError:
        expected = rules.date_format or "YYYY-MM-DD"
        raise ValueError(f"{text!r} is not a date ({expected})") from None


def _lowered(target: str, text: str, _rules: ValueRules) -> str:
    return _text(target, text.casefold())


def _plain(target: str, text: str, _rules: ValueRules) -> str:
    return _text(target, text)


def _policy(_target: str, text: str, _rules: ValueRules) -> str:
    value = text.casefold()
    if value not in ("inherit", "own"):
        raise ValueError(f"{text!r} is not inherit or own")
    return value


_CONVERTERS: dict[str, Callable[[str, str, ValueRules], Any]] = {
    "domain": _plain,
    "region": _plain,
    "lifecycle_stage": _lowered,
    "mrr": _money,
    "health_score": _integer,
    "tier": _integer,
    "nps": _integer,
    "csm_rating": _integer,
    "renewal_date": _date,
    "inherit_policy": _policy,
}
