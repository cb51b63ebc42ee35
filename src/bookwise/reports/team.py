"""The team performance report: per user, accounts, MRR, averages and health bands, in a
counting mode, now or as of a date (docs/concepts.md "Counting modes").

Three statements whatever the number of accounts: the role's check, the per-user figures and
the team totals (plus the catalog look-ups a rule or segment needs).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, field_serializer
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from bookwise.accounts.history import values_as_of
from bookwise.assignments.operation import get_role
from bookwise.config import get_settings
from bookwise.dates import end_of_day, today
from bookwise.errors import InvalidInput
from bookwise.models import Account, Assignment, User
from bookwise.money import from_minor_units
from bookwise.reports.counting import (
    DEFAULT_COUNTING,
    WHOLE,
    Inputs,
    get_counting_mode,
)
from bookwise.segments.rules import RuleInput, compile_where, segment_rule

RENEWAL_DAYS = 90
"""Renewals due counts renewal dates from the report's day to this many days after it."""

AVERAGED = ("health_score", "csm_rating", "nps")


class TeamRow(BaseModel):
    """One user's figures in the report's counting mode."""

    name: str = Field(description="The user's name.")
    email: str = Field(description="The user's email (people are named by `name`).")
    active: bool = Field(description="False for a deactivated user who owned accounts then.")
    csm_seat: bool = Field(description="False for a user without a CSM seat who owned accounts.")
    flag: str | None = Field(
        description="`inactive`, `no seat` or `inactive, no seat` for a user listed only "
        "because they owned accounts in the mode on the date; null for an active CSM."
    )
    accounts: int | Decimal = Field(
        description="The accounts credited to the user: an integer, or in mode `split` a "
        "decimal string with three decimals (shares of co-owned accounts)."
    )
    mrr: Decimal = Field(description="The MRR credited, a decimal string in currency units.")
    avg_health: Decimal | None = Field(
        description="Average health score of the credited accounts that have one (weighted by "
        "credit), a decimal string, or null when none has one."
    )
    health_accounts: int | Decimal = Field(description="How many accounts had a health score.")
    avg_csm_rating: Decimal | None = Field(
        description="Average CSM rating (1–5) of the credited accounts that have one, or null."
    )
    csm_rating_accounts: int | Decimal = Field(description="How many accounts had a CSM rating.")
    avg_nps: Decimal | None = Field(
        description="Average NPS of the credited accounts that have one, or null."
    )
    nps_accounts: int | Decimal = Field(description="How many accounts had an NPS.")
    healthy: int | Decimal = Field(description="Accounts with health at or above the band.")
    neutral: int | Decimal = Field(description="Accounts with health between the bands.")
    unhealthy: int | Decimal = Field(description="Accounts with health below the band.")
    unknown: int | Decimal = Field(description="Accounts without a health score.")
    renewals_90d: int | Decimal = Field(
        description="Accounts whose renewal date falls from the report's day to 90 days after."
    )

    @field_serializer("mrr", "avg_health", "avg_csm_rating", "avg_nps")
    def _decimal(self, value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    @field_serializer(
        "accounts",
        "health_accounts",
        "csm_rating_accounts",
        "nps_accounts",
        "healthy",
        "neutral",
        "unhealthy",
        "unknown",
        "renewals_90d",
    )
    def _count(self, value: int | Decimal) -> int | str:
        return value if isinstance(value, int) else str(value)


class TeamReport(BaseModel):
    """Every CSM's figures in one counting mode, and the team's totals (distinct accounts)."""

    items: list[TeamRow] = Field(description="One row per active CSM-seat user, then others.")
    total: int = Field(description="How many rows there are.")
    counting: str = Field(description="The counting mode: `all`, `top-level`, `rollup`, `split`.")
    counting_english: str = Field(description="The counting mode in words.")
    role: str = Field(description="The assignment role counted.")
    as_of: date | None = Field(description="The day reported (end of day), or null for now.")
    rule: str | None = Field(description="The rule or segment narrowing the accounts, if any.")
    team_accounts: int = Field(description="Distinct accounts credited to anyone in the mode.")
    team_mrr: Decimal = Field(
        description="The MRR of those distinct accounts (with rollup: of "
        "every owned account under them)."
    )
    healthy_from: int = Field(description="Health at or above this is healthy.")
    unhealthy_below: int = Field(description="Health below this is unhealthy.")

    @field_serializer("team_mrr")
    def _money(self, value: Decimal) -> str:
        return str(value)


def report_inputs(*, role: str, day: date | None) -> Inputs:
    """The owners in ``role`` and the accounts' values: now, or at the end of ``day``."""
    owners = select(
        Assignment.account_id,
        Assignment.user_id,
        Assignment.started_at,
        Assignment.id.label("assignment_id"),
    ).where(Assignment.role == role)
    fields = ("parent_id", "mrr", *AVERAGED, "renewal_date")
    if day is None:
        owners = owners.where(Assignment.ended_at.is_(None))
        accounts: Subquery = select(
            Account.id.label("account_id"), *[getattr(Account, f) for f in fields]
        ).subquery("report_accounts")
    else:
        moment = end_of_day(day)
        owners = owners.where(
            Assignment.started_at < moment,
            or_(Assignment.ended_at.is_(None), Assignment.ended_at >= moment),
        )
        held = values_as_of(moment).subquery("held_values")
        accounts = select(held.c.account_id, *[held.c[f] for f in fields]).subquery(
            "report_accounts"
        )
    return Inputs(owners=owners.subquery("report_owners"), accounts=accounts)


def _narrowing(session: Session, where: RuleInput | None, segment: str | None) -> Any:
    """The rule or segment as (condition on Account, its text), or (None, None)."""
    if where is not None and segment is not None:
        raise InvalidInput("name a rule or a segment, not both")
    if where is not None:
        compiled = compile_where(session, where)
        return compiled.where, compiled.text
    if segment is not None:
        return segment_rule(session, segment).where, f"segment {segment}"
    return None, None


def team_report(
    session: Session,
    *,
    counting: str = DEFAULT_COUNTING,
    day: date | None = None,
    role: str = "csm",
    where: RuleInput | None = None,
    segment: str | None = None,
) -> TeamReport:
    """Per user: accounts, MRR, averages, health bands and renewals due in one counting mode,
    now or as of the end of ``day``, narrowed by a rule or segment; with team totals."""
    mode = get_counting_mode(counting)
    get_role(session, role)
    condition, rule_text = _narrowing(session, where, segment)
    inputs = report_inputs(role=role, day=day)
    credited = mode.credits(inputs).subquery("credits")
    if condition is not None:
        # The hierarchy stays whole (a book root is judged by every ancestor); the rule
        # only narrows which accounts' credits are counted.
        matching = select(Account.id).where(condition)
        credited = select(credited).where(credited.c.account_id.in_(matching)).subquery("narrowed")
    settings = get_settings()
    rows = session.execute(_per_user(credited, inputs.accounts, day or today())).all()
    team_accounts, team_mrr = session.execute(_team(credited, inputs.accounts)).one()
    split = mode.name == "split"
    return TeamReport(
        items=[_row(row, split) for row in rows],
        total=len(rows),
        counting=mode.name,
        counting_english=mode.english,
        role=role,
        as_of=day,
        rule=rule_text,
        team_accounts=int(team_accounts or 0),
        team_mrr=_money(team_mrr),
        healthy_from=settings.health_healthy_from,
        unhealthy_below=settings.health_unhealthy_below,
    )


def _per_user(credited: Subquery, accounts: Subquery, day: date) -> Any:
    """SQL: every active CSM-seat user and every other credited user, with sums of credit."""
    settings = get_settings()
    share = credited.c.share
    health = accounts.c.health_score

    def shares(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, share), else_=0))

    sums = [
        func.sum(share).label("accounts"),
        func.sum(func.coalesce(credited.c.mrr, 0)).label("mrr"),
    ]
    for field in AVERAGED:
        value = accounts.c[field]
        sums.append(shares(value.is_not(None)).label(f"{field}_n"))
        sums.append(func.sum(share * value).label(f"{field}_sum"))
    sums += [
        shares(health >= settings.health_healthy_from).label("healthy"),
        shares(health < settings.health_unhealthy_below).label("unhealthy"),
        shares(health.is_(None)).label("unknown"),
        shares(accounts.c.renewal_date.between(day, day + timedelta(days=RENEWAL_DAYS))).label(
            "renewals"
        ),
    ]
    per_user = (
        select(credited.c.user_id, *sums)
        .join_from(credited, accounts, accounts.c.account_id == credited.c.account_id)
        .group_by(credited.c.user_id)
        .subquery("per_user")
    )
    figures = [per_user.c[c.name] for c in sums]
    return (
        select(User.name, User.email, User.active, User.csm_seat, *figures)
        .outerjoin(per_user, per_user.c.user_id == User.id)
        .where(
            or_(
                and_(User.active.is_(True), User.csm_seat.is_(True)),
                per_user.c.user_id.is_not(None),
            )
        )
        .order_by(User.name_fold, User.email_fold)
    )


def _team(credited: Subquery, accounts: Subquery) -> Any:
    """SQL: the distinct accounts credited to anyone, and the MRR of every credited account."""
    counted = select(credited.c.account_id).where(credited.c.share > 0)
    touched = select(credited.c.account_id)
    return select(
        select(func.count()).where(accounts.c.account_id.in_(counted)).scalar_subquery(),
        select(func.sum(accounts.c.mrr))
        .where(accounts.c.account_id.in_(touched))
        .scalar_subquery(),
    )


def _money(minor: Any) -> Decimal:
    """A sum of minor units (NULL for none) in currency units."""
    amount = from_minor_units(int(minor or 0))
    assert amount is not None
    return amount


def _credit(units: Any, split: bool) -> int | Decimal:
    """Thousandths of an account as a count: an integer, or three decimals in ``split``."""
    value = int(units or 0)
    return (Decimal(value) / WHOLE).quantize(Decimal("0.001")) if split else value // WHOLE


def _average(total: Any, weight: Any) -> Decimal | None:
    """A credit-weighted average to two decimals, or None when no account had a value."""
    if not weight:
        return None
    return (Decimal(int(total)) / Decimal(int(weight))).quantize(Decimal("0.01"))


def _row(row: Any, split: bool) -> TeamRow:
    flags = [word for ok, word in ((row.active, "inactive"), (row.csm_seat, "no seat")) if not ok]
    counted = _credit(row.accounts, split)
    healthy, unhealthy, unknown = (
        _credit(row.healthy, split),
        _credit(row.unhealthy, split),
        _credit(row.unknown, split),
    )
    return TeamRow(
        name=row.name,
        email=row.email,
        active=row.active,
        csm_seat=row.csm_seat,
        flag=", ".join(flags) or None,
        accounts=counted,
        mrr=_money(row.mrr),
        avg_health=_average(row.health_score_sum, row.health_score_n),
        health_accounts=_credit(row.health_score_n, split),
        avg_csm_rating=_average(row.csm_rating_sum, row.csm_rating_n),
        csm_rating_accounts=_credit(row.csm_rating_n, split),
        avg_nps=_average(row.nps_sum, row.nps_n),
        nps_accounts=_credit(row.nps_n, split),
        healthy=healthy,
        neutral=counted - healthy - unhealthy - unknown,
        unhealthy=unhealthy,
        unknown=unknown,
        renewals_90d=_credit(row.renewals, split),
    )
