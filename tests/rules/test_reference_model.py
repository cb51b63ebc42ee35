"""The SQL a rule compiles to selects exactly what a tiny Python model of the semantics selects.

One population is built per database: NULLs in every nullable field, a hierarchy down to
great-grandchildren, accounts with 0, 1 and 2 CSMs, an inactive CSM who kept their accounts,
an ended assignment, custom attributes of every type, mixed case and non-ASCII text, and three
saved segments. Every field is then tried with every operator and a list of telling values
(about 2,000 conditions, some behind ``parent.``), and hypothesis draws random rule trees
(depth ≤ 3: and, or, not, any child, segments). Each rule's SQL result, and that of ``not``
the rule, is compared with the reference evaluator below, which reads plain dicts.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, note, reject, settings
from hypothesis import strategies as st
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bookwise.accounts.service import build_fields, create_account, declare_attribute
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts, unassign_accounts
from bookwise.config import get_settings
from bookwise.dates import today
from bookwise.errors import RuleTooBig
from bookwise.models import Account, Assignment, User
from bookwise.rules import ast
from bookwise.rules.compiler import compile_rule
from bookwise.rules.printer import print_rule
from bookwise.segments.rules import compile_where, load_catalog
from bookwise.segments.service import create_segment
from tests.factories import actor, make_user

# --- the population ------------------------------------------------------------------------

ABSENT = object()  # a custom attribute the account does not carry at all (unlike "" → null)
SIZE = 30
TODAY = today()
ZONE = get_settings().zone

# parent of each account index (all others are top-level); 5 is a great-grandchild of 0
PARENTS = {1: 0, 2: 0, 3: 1, 4: 1, 5: 3, 7: 6, 8: 6, 10: 9, 12: 11}
INHERITING = {7, 8}
# CSM emails per account index (before cy is deactivated, keeping their accounts)
OWNERS = {
    0: ["ann"],
    1: ["ann", "bob"],
    2: ["cy"],
    3: ["bob", "cy"],
    6: ["bob"],
    9: ["eva"],
    11: ["ann", "eva"],
    13: ["ann"],
    14: ["cy", "eva"],
    15: ["bob"],
}
ENDED = {15: "bob", 16: "ann"}  # assigned, then unassigned again

POOLS: dict[str, list[Any]] = {
    "name": [
        *("Acme", "ACME Corp", "äpfel GmbH", "ÄPFEL Gmbh", "Café Été", "CAFE ete", "Straße"),
        *("100% Zeta_co", "zeta co"),
    ],
    "domain": [None, "acme.com", "ACME.com", "café.fr", "CAFÉ.FR", "zeta_co.io", "100%.net"],
    "mrr": [None, "0", "50", "50.01", "5000", "1234.56", "-20", "999999999.99", "0.01"],
    "health_score": [None, 0, 49, 50, 51, 100],
    "tier": [None, 1, 2, 3, 99],
    "nps": [None, -100, -1, 0, 1, 100],
    "csm_rating": [None, 1, 3, 5],
    "lifecycle_stage": [None, "Onboarding", "ADOPTION", "adoption", "Renewal", "Évaluation"],
    "region": [
        None,
        "EMEA",
        "emea",
        "Äsia",
        "äSIA",
        "North America",
        "Île-de-France",
        "ΟΔΟΣ",
        "İstanbul",
    ],
    "renewal_date": [
        None,
        TODAY,
        TODAY + timedelta(days=1),
        TODAY - timedelta(days=1),
        TODAY + timedelta(days=60),
        TODAY - timedelta(days=30),
        date(2026, 2, 28),
        date(2024, 2, 29),
    ],
    "created_at": [
        datetime.combine(TODAY, time(0), tzinfo=ZONE),
        datetime.combine(TODAY, time(23, 59, 59, 999_999), tzinfo=ZONE),
        datetime.combine(TODAY - timedelta(days=1), time(23, 59, 59, 999_999), tzinfo=ZONE),
        datetime.combine(TODAY - timedelta(days=40), time(12), tzinfo=ZONE),
        datetime.combine(date(2026, 1, 31), time(6), tzinfo=ZONE),
    ],
    "note": [ABSENT, "", "Hello", "HELLO world", "Ärger", "ärger", "50%_off"],
    "score": [ABSENT, "", "7", "7.5", "-3", "0", "100"],
    "vip": [ABSENT, "", "true", "false"],
    "signed": [ABSENT, "", TODAY.isoformat(), str(TODAY - timedelta(days=10)), "2026-03-31"],
    "plan": [ABSENT, "", "Gold", "silver", "BRONZE"],
    "budget": [ABSENT, "", "0", "10.50", "5000", "-1"],
}
STANDARD: tuple[str, ...] = ("name", "domain", "mrr", "health_score", "tier", "nps")
STANDARD += ("csm_rating", "lifecycle_stage", "region", "renewal_date")
CUSTOM = {"note": "text", "score": "number", "vip": "boolean", "signed": "date"}
CUSTOM |= {"plan": "choice", "budget": "money"}
PLANS = ["Gold", "Silver", "Bronze"]
USERS = {
    "ann": "Ann Smith",
    "bob": "Bob Jones",
    "cy": "Cy Old",
    "eva": "Éva Ürge",
}


def spread(rng: random.Random, pool: list[Any]) -> list[Any]:
    """SIZE values from ``pool``, each value at least once, in random order."""
    values = pool + [rng.choice(pool) for _ in range(SIZE - len(pool))]
    rng.shuffle(values)
    return values


@dataclass
class World:
    """The population as plain dicts, as the reference evaluator reads it."""

    rows: dict[int, dict[str, Any]]
    children: dict[int, list[int]]
    owners: dict[int, dict[int, bool]]  # account id → {user id: active}
    users: dict[str, int]  # email, and unique full name, casefolded → user id
    segments: dict[str, ast.Rule] = field(default_factory=dict)


def build_population(session: Session) -> World:
    me = actor(session)
    users = {
        key: make_user(session, f"{key}@example.com", name=name) for key, name in USERS.items()
    }
    for name, kind in CUSTOM.items():
        declare_attribute(
            session, name=name, type=kind, choices=PLANS if kind == "choice" else None, actor=me
        )
    rng = random.Random(20260314)
    columns = {name: spread(rng, pool) for name, pool in POOLS.items()}
    prefixes = [None, None, "ab-", "AB-", "Éx-", "x_%"]
    accounts: list[Account] = []
    for i in range(SIZE):
        fields = {name: columns[name][i] for name in STANDARD}
        prefix = rng.choice(prefixes)
        fields["external_id"] = f"{prefix}{i}" if prefix else None
        if i in INHERITING:
            fields["inherit_policy"] = "inherit"
        elif i % 3 == 0:
            fields["inherit_policy"] = "own"
        custom = {n: str(columns[n][i]) for n in CUSTOM if columns[n][i] is not ABSENT}
        parent = accounts[PARENTS[i]] if i in PARENTS else None
        account = create_account(
            session,
            fields=build_fields(**fields),
            parent=parent,
            custom=custom,
            actor=me,
        )
        account.created_at = columns["created_at"][i].astimezone(UTC)
        accounts.append(account)
    session.flush()
    for i, keys in OWNERS.items():
        assign_accounts(
            session,
            selection=AccountRefs([accounts[i].id]),
            csms=[users[k] for k in keys],
            actor=me,
        )
    for i, key in ENDED.items():
        if key not in OWNERS.get(i, []):
            assign_accounts(
                session, selection=AccountRefs([accounts[i].id]), csms=[users[key]], actor=me
            )
        unassign_accounts(
            session, selection=AccountRefs([accounts[i].id]), csm=users[key], actor=me
        )
    deactivate_user(session, user=users["cy"], actor=me, keep=True)
    session.expire_all()
    world = load_world(session)
    add_segments(session, world)
    check_coverage(world)
    return world


SEGMENTS: dict[str, ast.Rule] = {
    "Europe": ast.Condition(field="region", op="=", value=ast.StringValue(value="emea")),
    "Big or shared": ast.Or(
        items=[
            ast.Condition(field="mrr", op=">=", value=ast.NumberValue(value=Decimal(1000))),
            ast.Condition(field="csm_count", op=">=", value=ast.NumberValue(value=Decimal(2))),
        ]
    ),
    "Nested": ast.And(
        items=[
            ast.SegmentRef(name="europe"),
            ast.Not(item=ast.AnyChild(rule=ast.Condition(field="tier", op="is empty"))),
        ]
    ),
}


def add_segments(session: Session, world: World) -> None:
    for name, rule in SEGMENTS.items():
        create_segment(session, name=name, rule=rule, actor=actor(session))
        world.segments[name.casefold()] = rule


def load_world(session: Session) -> World:
    rows: dict[int, dict[str, Any]] = {}
    children: dict[int, list[int]] = {}
    for account in session.scalars(select(Account)):
        row = {
            name: getattr(account, name)
            for name in (*STANDARD, "external_id", "inherit_policy", "created_at", "depth")
        }
        row |= {"id": account.id, "parent_id": account.parent_id, "custom": dict(account.custom)}
        rows[account.id] = row
        children.setdefault(account.id, [])
    for row in rows.values():
        if row["parent_id"] is not None:
            children[row["parent_id"]].append(row["id"])
    active = {u.id: u.active for u in session.scalars(select(User))}
    owners: dict[int, dict[int, bool]] = {account_id: {} for account_id in rows}
    for account_id, user_id in session.execute(
        select(Assignment.account_id, Assignment.user_id).where(
            Assignment.role == "csm", Assignment.ended_at.is_(None)
        )
    ):
        owners[account_id][user_id] = active[user_id]
    users: dict[str, int] = {}
    for user in session.scalars(select(User).where(User.is_system.is_(False))):
        users[user.email.casefold()] = user.id
        users[user.name.casefold()] = user.id
    return World(rows=rows, children=children, owners=owners, users=users)


def check_coverage(world: World) -> None:
    """The population has what the docstring promises (so random rules can find it)."""
    rows = list(world.rows.values())
    for name in (*STANDARD, "external_id", "inherit_policy"):
        values = [row[name] for row in rows]
        assert None in values or name == "name", name
        assert any(v is not None for v in values), name
    for name in CUSTOM:
        values = [row["custom"].get(name, ABSENT) for row in rows]
        assert ABSENT in values, name
        assert None in values, name
        assert any(v is not None and v is not ABSENT for v in values), name
    csm_counts = {sum(o.values()) for o in world.owners.values()}
    assert {0, 1, 2} <= csm_counts
    assert any(o and not any(o.values()) for o in world.owners.values()), "only inactive owner"
    assert max(row["depth"] for row in rows) == 3


# --- the reference evaluator ---------------------------------------------------------------


def shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def day_of(value: ast.Value) -> date:
    if isinstance(value, ast.DateValue):
        return value.value
    assert isinstance(value, ast.RelativeDate)
    if value.unit == "days":
        return TODAY + timedelta(days=value.offset)
    return shift_months(TODAY, value.offset)


def simple_lower(text: str) -> str:
    """Unicode's simple lower case, character by character: what text comparison means."""
    return "".join(char.lower()[0] if char.lower() else char for char in text)


def text_of(value: ast.Value) -> str:
    assert isinstance(value, ast.StringValue)
    return value.value


def number_of(value: ast.Value) -> Decimal:
    assert isinstance(value, ast.NumberValue)
    return value.value


# field → (how to read the account's value, how to read a rule value), both made comparable
Reader = Callable[[dict[str, Any]], Any]
ValueReader = Callable[[ast.Value], Any]


def _custom(name: str, convert: Callable[[Any], Any] = lambda v: v) -> Reader:
    def read(row: dict[str, Any]) -> Any:
        value = row["custom"].get(name)
        return None if value is None else convert(value)

    return read


def _column(name: str, convert: Callable[[Any], Any] = lambda v: v) -> Reader:
    return lambda row: None if row[name] is None else convert(row[name])


def _money_units(value: ast.Value) -> Decimal:
    return number_of(value) * 100  # USD: 2 decimals


FIELDS: dict[str, tuple[Reader, ValueReader]] = {
    "name": (_column("name", str.casefold), lambda v: text_of(v).casefold()),
    "external_id": (_column("external_id"), text_of),
    "domain": (_column("domain", simple_lower), lambda v: simple_lower(text_of(v))),
    "region": (_column("region", simple_lower), lambda v: simple_lower(text_of(v))),
    "lifecycle_stage": (_column("lifecycle_stage", str.casefold), lambda v: text_of(v).casefold()),
    "inherit_policy": (_column("inherit_policy"), lambda v: text_of(v).casefold()),
    "mrr": (_column("mrr", Decimal), _money_units),
    "health_score": (_column("health_score", Decimal), number_of),
    "tier": (_column("tier", Decimal), number_of),
    "nps": (_column("nps", Decimal), number_of),
    "csm_rating": (_column("csm_rating", Decimal), number_of),
    "depth": (_column("depth", Decimal), number_of),
    "renewal_date": (_column("renewal_date"), day_of),
    "created_at": (_column("created_at", lambda v: v.astimezone(ZONE).date()), day_of),
    "custom.note": (_custom("note", simple_lower), lambda v: simple_lower(text_of(v))),
    "custom.score": (_custom("score", float), lambda v: float(number_of(v))),
    "custom.vip": (_custom("vip"), lambda v: v.value if isinstance(v, ast.BooleanValue) else None),
    "custom.signed": (_custom("signed", date.fromisoformat), day_of),
    "custom.plan": (_custom("plan", str.casefold), lambda v: text_of(v).casefold()),
    "custom.budget": (_custom("budget", float), lambda v: float(_money_units(v))),
}


def matches(rule: ast.Rule, row: dict[str, Any], world: World) -> bool:
    if isinstance(rule, ast.And):
        return all(matches(item, row, world) for item in rule.items)
    if isinstance(rule, ast.Or):
        return any(matches(item, row, world) for item in rule.items)
    if isinstance(rule, ast.Not):
        return not matches(rule.item, row, world)
    if isinstance(rule, ast.AnyChild):
        return any(matches(rule.rule, world.rows[c], world) for c in world.children[row["id"]])
    if isinstance(rule, ast.SegmentRef):
        segment = world.segments[rule.name.casefold()]
        if rule.relation == "self":
            return matches(segment, row, world)
        ancestors = []
        parent_id = row["parent_id"]
        while parent_id is not None:
            ancestors.append(world.rows[parent_id])
            parent_id = world.rows[parent_id]["parent_id"]
        if rule.relation == "parent":
            ancestors = ancestors[:1]
        return any(matches(segment, a, world) for a in ancestors)
    field_name = rule.field
    while field_name.startswith("parent."):
        if row["parent_id"] is None:
            return False  # parent.<cond>: has a parent, and the parent satisfies <cond>
        row = world.rows[row["parent_id"]]
        field_name = field_name.removeprefix("parent.")
    return condition(rule.model_copy(update={"field": field_name}), row, world)


def values_of(node: ast.Condition) -> list[ast.Value]:
    value = node.value
    return value if isinstance(value, list) else [] if value is None else [value]


def condition(node: ast.Condition, row: dict[str, Any], world: World) -> bool:
    op, values = node.op, values_of(node)
    if op in ("!=", "not in"):  # exactly the complement of the positive form, empties included
        positive = node.model_copy(update={"op": "=" if op == "!=" else "in"})
        return not condition(positive, row, world)
    if node.field in ("is_parent", "is_child", "company_level"):
        if node.field == "company_level":
            level = number_of(values[0])
            return bool(world.children[row["id"]]) if level == 1 else row["parent_id"] is not None
        fact = (
            bool(world.children[row["id"]])
            if node.field == "is_parent"
            else row["parent_id"] is not None
        )
        wanted = values[0]
        assert isinstance(wanted, ast.BooleanValue)
        return fact == wanted.value
    if node.field in ("csm", "csm_count"):
        return owners(node, op, values, world.owners[row["id"]], world)
    read, read_value = FIELDS[node.field]
    mine = read(row)
    if op == "is empty":
        return mine is None
    if op == "is not empty":
        return mine is not None
    if mine is None:
        return False  # every other positive operator never matches an empty value
    return compare(mine, op, [read_value(v) for v in values])


def compare(mine: Any, op: str, wanted: list[Any]) -> bool:
    if op == "in":
        return mine in wanted
    if op == "between":
        return bool(wanted[0] <= mine <= wanted[1])
    if op == "contains":
        return bool(wanted[0] in mine)
    if op == "starts with":
        return bool(mine.startswith(wanted[0]))
    results = {
        "=": mine == wanted[0],
        "<": mine < wanted[0],
        "<=": mine <= wanted[0],
        ">": mine > wanted[0],
        ">=": mine >= wanted[0],
    }
    return bool(results[op])


def owners(
    node: ast.Condition, op: str, values: list[ast.Value], mine: dict[int, bool], world: World
) -> bool:
    active = [user for user, is_active in mine.items() if is_active]
    if node.field == "csm_count":
        return compare(Decimal(len(active)), op, [number_of(v) for v in values])
    if op == "is empty":
        return not active
    if op == "is not empty":
        return bool(active)
    named = {world.users[" ".join(text_of(v).split()).casefold()] for v in values}
    return bool(named & set(mine))  # = and in: among the open owners, active or not


# --- rules ---------------------------------------------------------------------------------


def numbers(*values: float | int | str) -> list[ast.Value]:
    return [ast.NumberValue(value=Decimal(str(v))) for v in values]


def strings(*values: str) -> list[ast.Value]:
    return [ast.StringValue(value=v) for v in values]


def dates() -> list[ast.Value]:
    fixed = sorted({d for d in POOLS["renewal_date"] if d is not None})
    fixed += [date(2026, 3, 31), date(2026, 1, 31), TODAY - timedelta(days=40)]
    relative: list[ast.Value] = [ast.RelativeDate(offset=n) for n in (0, 1, -1, -10, -30, -40)]
    relative += [ast.RelativeDate(offset=n, unit="months") for n in (-1, 1, -3)]
    relative.append(ast.RelativeDate(offset=60))
    absolute: list[ast.Value] = [ast.DateValue(value=d) for d in fixed]
    return absolute + relative


HUGE = ("3000000000", "99999999999999999999", "-99999999999999999999")
COMMON = (0, 1, 2, 3, 49, 49.5, 50, 50.5, 100, -1, -100, *HUGE)
MONEY = numbers(0, 50, 50.01, 49.99, 5000, 1234.56, -20, 0.01, "999999999.99", *HUGE)
MONEY += numbers("92233720368547758.08", "-92233720368547758.09")  # ±2^63 minor units
BOOLEANS: list[ast.Value] = [ast.BooleanValue(value=True), ast.BooleanValue(value=False)]
EMPTY = ("is empty", "is not empty")
NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "not in", "between")
TEXT_OPS = ("=", "!=", "in", "not in", "contains", "starts with")
CHOICE_OPS = ("=", "!=", "in", "not in")
DATE_OPS = ("=", "!=", "<", "<=", ">", ">=", "between")
NAME_WORDS = ("acme", "ACME", "Äpfel", "äPFEL gmbh", "café", "CAFÉ ÉTÉ", "strasse", "ß")
USERS_NAMED: tuple[str, ...] = ("ann@example.com", "BOB@Example.com", "cy@example.com")
USERS_NAMED += ("CY@EXAMPLE.COM",)
USERS_NAMED += ("éva ürge", "ÉVA  Ürge", "Bob  Jones", "cy old")  # unique full names

# field → (operators, values to try); every nullable field also gets is (not) empty
CASES: dict[str, tuple[tuple[str, ...], list[ast.Value]]] = {
    "name": (TEXT_OPS, strings("", "%", "_", *NAME_WORDS, "100%", "zeta_", "Zeta_co", "e")),
    "external_id": (
        TEXT_OPS + EMPTY,
        strings("", "%", "ab-", "AB-", "ab-1", "AB-2", "Éx-", "éx-", "x_%", "x_", "1", "2"),
    ),
    "domain": (
        TEXT_OPS + EMPTY,
        strings("", "_", "acme.com", "ACME.COM", "café", "CAFÉ.fr", ".io", "100%"),
    ),
    "region": (
        TEXT_OPS + EMPTY,
        strings(
            "",
            "emea",
            "EMEA",
            "äsia",
            "ÄSIA",
            "north",
            "Île",
            "îLE",
            "a",
            "οδοσ",
            "ΟΔΟ",
            "istanbul",
        ),
    ),
    "custom.note": (
        TEXT_OPS + EMPTY,
        strings("", "%", "hello", "HELLO WORLD", "ärger", "ÄRG", "%_", "50%", "_"),
    ),
    "lifecycle_stage": (
        CHOICE_OPS + EMPTY,
        strings("onboarding", "Adoption", "RENEWAL", "évaluation", "ÉVALUATION", "churn"),
    ),
    "inherit_policy": (CHOICE_OPS + EMPTY, strings("inherit", "OWN", "Own")),
    "custom.plan": (CHOICE_OPS + EMPTY, strings("gold", "SILVER", "Bronze")),
    "mrr": (NUMBER_OPS + EMPTY, MONEY),
    "custom.budget": (NUMBER_OPS + EMPTY, MONEY),
    "health_score": (NUMBER_OPS + EMPTY, numbers(*COMMON, 51, 99)),
    "tier": (NUMBER_OPS + EMPTY, numbers(*COMMON, 99, 1.5)),
    "nps": (NUMBER_OPS + EMPTY, numbers(*COMMON, -1.5, -99)),
    "csm_rating": (NUMBER_OPS + EMPTY, numbers(*COMMON, 5, 4.99)),
    "depth": (NUMBER_OPS, numbers(*COMMON, 0.5, 2.5)),
    "custom.score": (NUMBER_OPS + EMPTY, numbers(*COMMON, 7, 7.5, -3)),
    "csm_count": (NUMBER_OPS, numbers(*COMMON, 0.5, 1.5)),
    "renewal_date": (DATE_OPS + EMPTY, dates()),
    "custom.signed": (DATE_OPS + EMPTY, dates()),
    "created_at": (DATE_OPS, dates()),
    "custom.vip": (("=", "!=", *EMPTY), BOOLEANS),
    "is_parent": (("=", "!="), BOOLEANS),
    "is_child": (("=", "!="), BOOLEANS),
    "company_level": (("=", "!="), numbers(0, 1)),
    "csm": (("=", "!=", "in", "not in", *EMPTY), strings(*USERS_NAMED)),
}
SEGMENT_NAMES = ("Europe", "big or shared", "NESTED")
RELATIONS: tuple[ast.Relation, ...] = ("self", "parent", "ancestor")


Operand = ast.Value | list[ast.Value] | None


def operands(op: str, pool: list[ast.Value]) -> list[Operand]:
    """Every value (or list, or pair) the sweep tries with ``op``."""
    if op in EMPTY:
        return [None]
    found: list[Operand] = []
    if op in ("in", "not in"):
        found.extend([pool[i], pool[(i + 3) % len(pool)]] for i in range(0, len(pool), 2))
        found.append(pool[:1])
    elif op == "between":  # both orders: a reversed range selects nothing
        found.extend([pool[i], pool[-1 - i]] for i in range(len(pool)))
    else:
        found.extend(pool)
    return found


def sweep() -> list[ast.Rule]:
    """Every field with every operator and every listed value; some behind ``parent.``."""
    found: list[ast.Rule] = []
    for name, (ops, pool) in sorted(CASES.items()):
        for op in ops:
            for value in operands(op, pool):
                parents = {1: "parent.", 7: "parent.parent."}.get(len(found) % 11, "")
                found.append(ast.Condition(field=parents + name, op=op, value=value))
    for segment in SEGMENT_NAMES:
        found.extend(ast.SegmentRef(name=segment, relation=r) for r in RELATIONS)
    return found


@st.composite
def conditions(draw: st.DrawFn) -> ast.Rule:
    name = draw(st.sampled_from(sorted(CASES)))
    ops, pool = CASES[name]
    values = st.sampled_from(pool)
    if name in ("health_score", "tier", "nps", "csm_rating", "depth", "csm_count"):
        values |= st.builds(lambda v: ast.NumberValue(value=v), st.decimals(-150, 150, places=2))
    op = draw(st.sampled_from(ops))
    value: ast.Value | list[ast.Value] | None
    if op in EMPTY:
        value = None
    elif op in ("in", "not in"):
        value = draw(st.lists(values, min_size=1, max_size=3))
    elif op == "between":
        value = [draw(values), draw(values)]
    else:
        value = draw(values)
    parents = draw(st.sampled_from(["", "", "", "parent.", "parent.parent."]))
    return ast.Condition(field=parents + name, op=op, value=value)


def segment_refs() -> st.SearchStrategy[ast.Rule]:
    return st.builds(
        lambda name, relation: ast.SegmentRef(name=name, relation=relation),
        st.sampled_from(SEGMENT_NAMES),
        st.sampled_from(RELATIONS),
    )


def rules(depth: int = 3) -> st.SearchStrategy[ast.Rule]:
    """Random rule trees at most ``depth`` operators deep over every kind of leaf."""
    leaves = st.one_of(conditions(), conditions(), conditions(), segment_refs())
    if depth == 0:
        return leaves
    inner = rules(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda item: ast.Not(item=item), inner),
        st.builds(lambda items: ast.And(items=items), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda items: ast.Or(items=items), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda rule: ast.AnyChild(rule=rule), inner),
    )


# --- the property --------------------------------------------------------------------------


def model_ids(rule: ast.Rule, world: World) -> set[int]:
    return {i for i, row in world.rows.items() if matches(rule, row, world)}


def sql_ids(session: Session, rule: ast.Rule) -> set[int]:
    return set(session.scalars(select(Account.id).where(compile_where(session, rule).where)))


def sql_ids_batch(session: Session, batch: list[ast.Rule]) -> list[set[int]]:
    """What each rule selects, evaluated side by side in one statement (as compile_where does)."""
    catalog = load_catalog(session, batch)
    flags = [case((compile_rule(rule, catalog), 1), else_=0) for rule in batch]
    found: list[set[int]] = [set() for _ in batch]
    for account_id, *matched in session.execute(select(Account.id, *flags)):
        for selected, flag in zip(found, matched, strict=True):
            if flag:
                selected.add(account_id)
    return found


def test_every_field_operator_and_value_selects_what_the_model_selects(session: Session) -> None:
    world = build_population(session)
    everyone = set(world.rows)
    leaves = sweep()
    assert len(leaves) > 1000
    problems = []
    for start in range(0, len(leaves), 100):
        batch = leaves[start : start + 100]
        negated: list[ast.Rule] = [ast.Not(item=rule) for rule in batch]
        selected = sql_ids_batch(session, batch + negated)
        for rule, got, got_not in zip(batch, selected, selected[len(batch) :], strict=False):
            expected = model_ids(rule, world)
            if got != expected or got_not != everyone - got:
                problems.append(
                    f"{print_rule(rule)}: SQL only {sorted(got - expected)}, "
                    f"model only {sorted(expected - got)}, not-R overlap {sorted(got & got_not)}"
                )
    assert not problems, f"{len(problems)} of {len(leaves)} disagree:\n" + "\n".join(problems)


def test_random_rule_trees_select_what_the_model_selects(session: Session) -> None:
    world = build_population(session)
    everyone = set(world.rows)

    @settings(max_examples=150, deadline=None, database=None)
    @given(rule=rules())
    def agree(rule: ast.Rule) -> None:
        note(f"rule: {print_rule(rule)}")
        try:
            compile_where(session, rule)
        except RuleTooBig:
            reject()  # past the budget (rules.budget): refused, so nothing to compare
        expected = model_ids(rule, world)
        got = sql_ids(session, rule)
        assert got == expected, f"SQL only: {got - expected}, model only: {expected - got}"
        assert sql_ids(session, ast.Not(item=rule)) == everyone - got

    agree()


def test_the_reference_model_is_not_vacuous(session: Session) -> None:
    """A few hand-written rules with known answers, on which the model and the SQL agree."""
    world = build_population(session)
    by_index = sorted(world.rows)  # account ids in creation order
    grandparent_on_top = ast.Condition(
        field="parent.parent.is_child", op="=", value=ast.BooleanValue(value=False)
    )
    great = ast.Condition(field="depth", op="=", value=ast.NumberValue(value=Decimal(3)))
    only_cy = ast.And(
        items=[
            ast.Condition(field="csm", op="=", value=ast.StringValue(value="cy@example.com")),
            ast.Condition(field="csm", op="is empty"),
        ]
    )
    for rule, indexes in ((great, {5}), (grandparent_on_top, {3, 4}), (only_cy, {2})):
        expected = {by_index[i] for i in indexes}
        assert model_ids(rule, world) == expected
        assert sql_ids(session, rule) == expected
