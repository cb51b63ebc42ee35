"""Turning the cells of one record into typed field values, or errors naming line and column."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bookwise.accounts.service import typed_value
from bookwise.csvsafe import restore
from bookwise.errors import BookwiseError, InvalidInput
from bookwise.importing.mapping import OWNER_IDS, OWNERS, PARENT, FileMapping
from bookwise.importing.reading import MAX_FIELD, Record
from bookwise.models import AttributeDefinition
from bookwise.models.user import fold_name, salesforce_18
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


# One user an owner cell names: (ref, by_email, written). ``ref`` is what the merge compares:
# a casefolded email or full name (by_email, since a name has no "@"), or an external id in
# its stored form (see ``models.user``); ``written`` is the cell's text, quoted in errors.
OwnerRef = tuple[str, bool, str]
_OWNER_NAME_LIMIT = 200  # users.name
_OWNER_ID_LIMIT = 100  # users.external_id


@dataclass
class ParsedRow:
    """A good record: its staged values (in the parser's column order) and the owners its
    owner cell names."""

    values: list[Any]
    owners: list[OwnerRef] = field(default_factory=list)


@dataclass(frozen=True)
class ValueRules:
    """How cells are read: date format, custom attributes, and whether the file is ours."""

    date_format: str | None
    attributes: Mapping[str, AttributeDefinition]
    exported: bool


class _Row:
    """What the cells of one record write into: staged values, custom values, owner refs."""

    __slots__ = ("custom", "owners", "values")

    def __init__(self, values: list[Any]) -> None:
        self.values = values
        self.custom: dict[str, Any] = {}
        self.owners: list[OwnerRef] = []


_Cell = Callable[[str, _Row], None]


class RecordParser:
    """Turns records into staged rows, or into every problem found in them.

    Built once per file: each mapped column gets its own small cell parser, so reading a
    million records does not look up the same target a million times (it was 40% of a big
    import's time). ``slots`` names the staged columns in order; ``fixed`` gives the values
    of those the file does not set.
    """

    def __init__(
        self,
        mapping: FileMapping,
        rules: ValueRules,
        *,
        slots: Sequence[str],
        fixed: Mapping[str, Any],
    ) -> None:
        self.rules = rules
        self.slot = {name: i for i, name in enumerate(slots)}
        self.template = [fixed.get(name) for name in slots]
        self._line, self._custom = self.slot["line"], self.slot["custom"]
        self._has_owners = self.slot["has_owners"]
        self.cells = [
            (c.index, c.header, self._cell(c.target, c.salesforce_id)) for c in mapping.columns
        ]

    def parse(self, record: Record) -> ParsedRow | list[Problem]:
        """The record's staged values, or every problem found in it."""
        row = _Row(self.template.copy())
        row.values[self._line] = record.line
        problems: list[Problem] = []
        cells, width, exported = record.cells, len(record.cells), self.rules.exported
        for index, header, parse_cell in self.cells:
            raw = cells[index] if index < width else ""
            if exported and raw[:1] == "'":
                raw = restore(raw)
            try:
                check_cell(raw)
                parse_cell(raw, row)
            except (ValueError, BookwiseError) as exc:
                reason = exc.message if isinstance(exc, BookwiseError) else str(exc)
                problems.append(Problem(record.line, header, shown(raw), _short(reason)))
        if problems:
            return problems
        if row.custom:
            custom = json.dumps(row.custom, ensure_ascii=False, separators=(",", ":"))
            row.values[self._custom] = custom
        row.values[self._has_owners] = bool(row.owners)
        return ParsedRow(values=row.values, owners=row.owners)

    def _cell(self, target: str, salesforce_id: bool) -> _Cell:
        """The parser of one column's cells."""
        rules = self.rules
        converter = _CONVERTERS.get(target)
        if converter is not None:
            slot = self.slot[target]

            def standard(raw: str, row: _Row) -> None:
                text = raw.strip()
                row.values[slot] = converter(target, text, rules) if text else None

            return standard
        if target.startswith("custom."):
            definition = rules.attributes[target[len("custom.") :]]

            def custom(raw: str, row: _Row) -> None:
                row.custom[definition.name] = typed_value(definition, raw) if raw.strip() else None

            return custom
        if target in (OWNERS, OWNER_IDS):

            def owners(raw: str, row: _Row) -> None:
                row.owners.extend(_owner_refs(target, raw.strip()))

            return owners
        if target == "external_id":
            slot = self.slot[target]

            def external_id(raw: str, row: _Row) -> None:
                text = raw.strip()
                if not text:
                    raise ValueError("an external id is required on every row")
                row.values[slot] = _text(target, salesforce_18(text) if salesforce_id else text)

            return external_id
        if target == PARENT:
            slot = self.slot["parent_ref"]

            def parent(raw: str, row: _Row) -> None:
                text = raw.strip()
                ref = salesforce_18(text) if salesforce_id and text else text
                row.values[slot] = _text(target, ref) if ref else None

            return parent
        if target == "name":
            slot, fold = self.slot["name"], self.slot["name_fold"]

            def name(raw: str, row: _Row) -> None:
                text = raw.strip()
                if not text:
                    raise ValueError("a name is required and cannot be cleared")
                row.values[slot] = _text(target, text)
                row.values[fold] = text.casefold()

            return name
        raise AssertionError(f"no parser for {target}")


NUL = "\x00"


def check_cell(raw: str) -> None:
    """What no column can hold: an overlong cell, or a NUL character (PostgreSQL stores no
    NUL in text; refused on SQLite too, so that a file means the same on either)."""
    if len(raw) > MAX_FIELD:
        raise ValueError(f"longer than {MAX_FIELD:,} characters")
    if NUL in raw:
        raise ValueError("contains a NUL character (byte 0x00), which text cannot hold")


def shown(raw: str) -> str:
    """A cell as an error report quotes it: its start, with any NUL written out."""
    return raw[:200].replace(NUL, "\\x00")


def _short(reason: str) -> str:
    # Field parsers prefix their message with the field name; the column says it already.
    head, sep, rest = reason.partition(": ")
    return rest if sep and " " not in head else reason


def _owner_refs(target: str, text: str) -> list[OwnerRef]:
    refs = [part.strip() for part in re.split(r"[;\n]", text) if part.strip()]
    if target == OWNER_IDS:
        # Users' external ids are stored in this form, whatever the column (models.user).
        return [(salesforce_18(_owner_limit(r, _OWNER_ID_LIMIT)), False, r) for r in refs]
    # An email (it has an "@") or a user's full name.
    return [
        (normalise_email(r).casefold(), True, r)
        if "@" in r
        else (fold_name(_owner_limit(r, _OWNER_NAME_LIMIT)), True, r)
        for r in refs
    ]


def _owner_limit(ref: str, limit: int) -> str:
    if len(ref) > limit:
        raise ValueError(f"{ref[:40]!r}… is longer than any user's ({limit} characters)")
    return ref


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
    if isinstance(number, Decimal) and not (number.is_finite() and number.adjusted() < 18):
        # int() of 1e999999999 would build a billion-digit number first
        raise ValueError(f"{text!r} is not a whole number in range")
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


_SAMPLE_DATE = date(2027, 3, 31)


def check_date_format(date_format: str) -> None:
    """Refuse a ``--date-format`` that cannot read back a whole date it wrote (``%d%d``,
    ``%H:%M``, ``%Y``): said once, before any row is read, not as a crash on the first cell."""
    try:
        written = _SAMPLE_DATE.strftime(date_format)
        ok = datetime.strptime(written, date_format).date() == _SAMPLE_DATE
    except Exception:  # re.error, ValueError, …: strptime compiles the format to a regex
        ok = False
    if not ok:
        raise InvalidInput(
            f"date format {date_format!r} does not name a whole date: use day, month and year "
            "directives, e.g. '%d/%m/%Y' or '%m/%d/%y'"
        )


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
