"""The demo book as plain rows: hierarchy, attributes and owners, streamed in batches.

Pure: no database. Every random draw comes from one ``random.Random(seed)`` in a fixed
order, so the same seed gives the same rows on every database. Accounts are produced family
by family (a top-level account, then each child followed by its own children), with ids
increasing, so a parent is always written before its children and a batch never splits a
family.
"""

from __future__ import annotations

import calendar
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import cos, exp, log, sin, sqrt
from math import tau as TAU
from typing import Any, NamedTuple

from bookwise.demo.names import (
    COUNTRIES,
    LEGAL_SUFFIXES,
    TLDS,
    UNITS,
    CompanyNamer,
    Country,
    ascii_slug,
    cumulative,
)

ACCOUNT_COLUMNS = (
    "id", "external_id", "name", "name_fold", "domain", "mrr", "health_score", "tier",
    "lifecycle_stage", "nps", "csm_rating", "region", "renewal_date", "created_at",
    "parent_id", "depth", "inherit_policy", "ownership_version", "custom",
)  # fmt: skip
ASSIGNMENT_COLUMNS = (
    "id", "account_id", "user_id", "role", "is_primary", "source", "reason", "actor_id",
    "operation_id", "started_at",
)  # fmt: skip
CHANGE_COLUMNS = ("account_id", "version", "operation_id", "changed_at")

Row = tuple[Any, ...]

# Hierarchy. A top-level account heads a family with probability FAMILY_SHARE; a family has
# 1–MAX_CHILDREN children (geometric, truncated, mean ≈ 3.16); GRANDPARENT_RATE of the
# children have 1–3 children of their own. These numbers give ≈15 % parents, ≈45 % children
# and ≈42 % standalone accounts (a middle account is both a parent and a child).
CHILD_P = 0.3155
MAX_CHILDREN = 20
GRANDPARENT_RATE = 0.05
MAX_GRANDCHILDREN = 3
PARENT_SHARE = 0.15

# Ownership. Owned accounts end up ≈70 % because inheriting children (INHERIT_RATE of the
# children of owned parents, ≈9.5 % of all accounts) are always owned.
OWN_RATE = 0.668
INHERIT_RATE = 0.30
FOLLOW_PARENT_RATE = 0.5  # an owned child that does not inherit still shares its parent's CSM
TWO_CSM_RATE = 0.02
TWO_CSM_RATE_BENCHMARK = 0.0715  # ≈5 % of all accounts

TIER_BOUNDS = (0.2, 0.5)  # tiers 1/2/3 at 20/30/50 %
TIER_MEDIAN_MRR = {1: 3_000, 2: 1_000, 3: 400}  # currency units
MRR_SIGMA = 1.1
STAGES, STAGE_BOUNDS = cumulative(
    (("onboarding", 10), ("adoption", 45), ("renewal", 35), ("churned", 10))
)
REGIONS, REGION_BOUNDS = cumulative((("NA", 40), ("EMEA", 35), ("APAC", 17), ("LATAM", 8)))
RATING_BOUNDS = cumulative((("1", 5), ("2", 10), ("3", 25), ("4", 35), ("5", 25)))[1]
LEGALS, LEGAL_BOUNDS = cumulative(LEGAL_SUFFIXES)
TLD_NAMES, TLD_BOUNDS = cumulative(TLDS)
CREATED_FROM = date(2019, 1, 1)
CREATED_DAYS = (date(2026, 1, 1) - CREATED_FROM).days  # created_at falls in 2019–2025
CREATED_MINUTES = CREATED_DAYS * 1440
RENEWAL_MONTHS = 18
IMPORT_REASON = "demo data"
INHERITED_REASON = "inherited from parent"
NO_OWNERS: tuple[int, ...] = ()
UNIT_SLUGS = {unit: ascii_slug(unit, "-") for unit in UNITS}


def minute_suffixes() -> list[str]:
    """`` HH:MM:00.000000`` for every minute of a day (SQLAlchemy's SQLite timestamp format)."""
    return [f" {m // 60:02d}:{m % 60:02d}:00.000000" for m in range(1440)]


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months``, clamped to the end of the target month."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _mean_children() -> float:
    q = 1 - CHILD_P
    weights = [q ** (k - 1) * CHILD_P for k in range(1, MAX_CHILDREN + 1)]
    return sum(k * w for k, w in enumerate(weights, start=1)) / sum(weights)


def _family_share() -> float:
    """Share of top-level accounts that head a family, so that PARENT_SHARE are parents."""
    children = _mean_children()
    middles = GRANDPARENT_RATE * children
    descendants = children + middles * (MAX_GRANDCHILDREN + 1) / 2
    return PARENT_SHARE / (1 + middles - PARENT_SHARE * descendants)


FAMILY_SHARE = _family_share()


@dataclass(frozen=True)
class BookSpec:
    """What to generate, and the ids and time the rows refer to."""

    accounts: int
    seed: int
    csm_ids: Sequence[int]
    two_csm_rate: float
    operation_id: int
    actor_id: int
    started_at: str
    today: date
    minor_per_unit: int
    child_policy: str | None = None  # stored on children that keep their own CSMs
    first_account_id: int = 1
    first_assignment_id: int = 1


@dataclass
class Batch:
    """Rows for one write: accounts (parents first), their assignments and version rows."""

    accounts: list[Row] = field(default_factory=list)
    assignments: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)


class Parent(NamedTuple):
    """What a child needs to know about its parent."""

    id: int
    created: int
    owners: tuple[int, ...]


@dataclass
class Tally:
    """What has been generated so far."""

    accounts: int = 0
    owned: int = 0
    assignments: int = 0
    inherited: int = 0


class BookBuilder:
    """Streams the rows of a demo book in batches; ``tally`` counts what has been produced."""

    def __init__(self, spec: BookSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.namer = CompanyNamer(spec.seed)
        self.tally = Tally()
        self.next_id = spec.first_account_id
        self.end_id = spec.first_account_id + spec.accounts
        self.next_assignment_id = spec.first_assignment_id
        self.top_index = 0
        self.batch = Batch()
        self.days = [(CREATED_FROM + timedelta(days=n)).isoformat() for n in range(CREATED_DAYS)]
        self.minutes = minute_suffixes()
        horizon = (add_months(spec.today, RENEWAL_MONTHS) - spec.today).days
        self.renewals = [
            (spec.today + timedelta(days=n)).isoformat() for n in range(1, horizon + 1)
        ]
        self.horizon = horizon
        self.mrr_mu = {
            tier: log(median * spec.minor_per_unit) for tier, median in TIER_MEDIAN_MRR.items()
        }
        self.csm_ids = list(spec.csm_ids)
        weights = [self.rng.uniform(0.5, 1.5) for _ in self.csm_ids]
        total = sum(weights)
        running = 0.0
        self.csm_bounds = []
        for weight in weights:
            running += weight
            self.csm_bounds.append(running / total)
        self.log_q = log(1 - CHILD_P)
        self.children_mass = 1 - (1 - CHILD_P) ** MAX_CHILDREN

    def batches(self, size: int) -> Iterator[Batch]:
        """Yield batches of at least ``size`` accounts (whole families) until the book is full."""
        while self._room():
            self._family()
            if len(self.batch.accounts) >= size:
                yield self._take()
        if self.batch.accounts:
            yield self._take()

    def _take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        self.tally.accounts = self.next_id - self.spec.first_account_id
        return batch

    def _room(self) -> bool:
        return self.next_id < self.end_id

    def _children_count(self) -> int:
        """A geometric count on 1..MAX_CHILDREN (inverse CDF of the truncated distribution)."""
        u = self.rng.random()
        return 1 + int(log(1 - u * self.children_mass) / self.log_q)

    def _family(self) -> None:
        """A top-level account and, for a family head, its children and grandchildren."""
        rng = self.rng
        heads_family = rng.random() < FAMILY_SHARE
        base, slug = self.namer.base(self.top_index, rng.random() < 0.5)
        self.top_index += 1
        legal = LEGALS[bisect(LEGAL_BOUNDS, rng.random())]
        tld = TLD_NAMES[bisect(TLD_BOUNDS, rng.random())]
        region = REGIONS[bisect(REGION_BOUNDS, rng.random())]
        created = int(rng.random() * CREATED_MINUTES)
        owners = self._owners(None)[1]
        top_id = self._account(
            base + legal, f"{slug}.{tld}", region, created, None, 0, None, owners
        )
        if not heads_family:
            return
        parent = Parent(top_id, created, owners)
        for country in rng.sample(COUNTRIES, self._children_count()):
            if not self._room():
                return
            self._subsidiary(base, slug, country, parent)

    def _subsidiary(self, base: str, slug: str, country: Country, parent: Parent) -> None:
        """A child in one country and, sometimes, its own business units as grandchildren."""
        rng = self.rng
        created = self._later(parent.created)
        policy, owners = self._owners(parent.owners)
        name = f"{base} {country.name} {country.legal}"
        domain = f"{slug}.{country.tld}"
        child_id = self._account(
            name, domain, country.region, created, parent.id, 1, policy, owners
        )
        if rng.random() >= GRANDPARENT_RATE:
            return
        for unit in rng.sample(UNITS, rng.randint(1, MAX_GRANDCHILDREN)):
            if not self._room():
                return
            unit_policy, unit_owners = self._owners(owners)
            name = f"{base} {country.name} – {unit}"
            domain = f"{UNIT_SLUGS[unit]}.{slug}.{country.tld}"
            unit_created = self._later(created)
            self._account(
                name, domain, country.region, unit_created, child_id, 2, unit_policy, unit_owners
            )

    def _later(self, created: int) -> int:
        """A creation time (minutes into the range) no earlier than ``created``."""
        return created + int(self.rng.random() * (CREATED_MINUTES - created))

    def _csm(self) -> int:
        return self.csm_ids[bisect(self.csm_bounds, self.rng.random())]

    def _owners(self, parent_owners: tuple[int, ...] | None) -> tuple[str | None, tuple[int, ...]]:
        """(inherit policy, CSMs) of an account whose parent has ``parent_owners`` (None: top)."""
        rng = self.rng
        if parent_owners and rng.random() < INHERIT_RATE:
            return "inherit", parent_owners
        # A child that keeps its own CSMs says so when the installation default is inherit.
        policy = None if parent_owners is None else self.spec.child_policy
        if rng.random() >= OWN_RATE or not self.csm_ids:
            return policy, NO_OWNERS
        follow = bool(parent_owners) and rng.random() < FOLLOW_PARENT_RATE
        first = parent_owners[0] if follow and parent_owners else self._csm()
        if len(self.csm_ids) < 2 or rng.random() >= self.spec.two_csm_rate:
            return policy, (first,)
        second = self._csm()
        while second == first:
            second = self._csm()
        return policy, (first, second)

    def _account(
        self,
        name: str,
        domain: str,
        region: str,
        created: int,
        parent_id: int | None,
        depth: int,
        policy: str | None,
        owners: tuple[int, ...],
    ) -> int:
        """Append one account (and its assignment and version rows); return its id."""
        random = self.rng.random
        account_id = self.next_id
        self.next_id = account_id + 1
        u = random()
        tier = 1 if u < TIER_BOUNDS[0] else 2 if u < TIER_BOUNDS[1] else 3
        stage = STAGES[bisect(STAGE_BOUNDS, random())]
        # Box–Muller: two independent standard normals from two uniforms (random.gauss and
        # lognormvariate cost several times more, and this runs a million times).
        radius, angle = sqrt(-2.0 * log(1.0 - random())), TAU * random()
        mrr = int(exp(self.mrr_mu[tier] + MRR_SIGMA * radius * cos(angle)) + 0.5)
        health = int(62.5 + 22 * radius * sin(angle))
        health = 0 if health < 0 else 100 if health > 100 else health
        # NPS leans positive: the larger of two uniforms, mapped onto -100..100.
        nps = None if random() < 0.4 else round(200 * max(random(), random()) - 100)
        rating = None if random() < 0.5 else bisect(RATING_BOUNDS, random()) + 1
        renewal = None if stage == "churned" else self.renewals[int(random() * self.horizon)]
        day, minute = divmod(created, 1440)
        external_id = "ACME-" + str(account_id).zfill(6)
        created_at = self.days[day] + self.minutes[minute]
        version = 1 if owners else 0
        self.batch.accounts.append(
            (account_id, external_id, name, name.casefold(), domain, mrr, health, tier, stage,
             nps, rating, region, renewal, created_at, parent_id, depth, policy, version, "{}")
        )  # fmt: skip
        if owners:
            self._own(account_id, policy, owners, max(self.spec.started_at, created_at))
        return account_id

    def _own(
        self, account_id: int, policy: str | None, owners: tuple[int, ...], started_at: str
    ) -> None:
        """The assignment rows and the version-1 chain row of an owned account, from
        ``started_at`` (the demo's start, or the account's creation if that is later)."""
        spec = self.spec
        source, reason = (
            ("inherited", INHERITED_REASON) if policy == "inherit" else ("import", IMPORT_REASON)
        )
        for user_id in owners:
            self.batch.assignments.append(
                (self.next_assignment_id, account_id, user_id, "csm", False, source, reason,
                 spec.actor_id, spec.operation_id, started_at)
            )  # fmt: skip
            self.next_assignment_id += 1
        self.batch.changes.append((account_id, 1, spec.operation_id, started_at))
        self.tally.owned += 1
        self.tally.assignments += len(owners)
        if policy == "inherit":
            self.tally.inherited += 1
