"""The counting modes of the reports, as data: each has a name, its English and its SQL.

A mode turns the owners and the account values (now, or as of a date) into credit rows, one
per (user, account) that the user gets credit for: ``share`` is the account count credit in
thousandths of an account (1000 for a whole one) and ``mrr`` the MRR credit in minor units.
The report sums the credits per user; its averages are weighted by ``share``. The docs table
of modes (docs/concepts.md) is generated from ``COUNTING_MODES``, so no mode goes undocumented.

Every mode is one statement built from two inputs the caller provides as subqueries:
``owners`` (account_id, user_id, started_at, assignment_id) and ``accounts`` (account_id,
parent_id, mrr and the averaged fields). The hierarchy modes walk the parent links with a
recursive CTE, on both engines; nothing loops over accounts in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, case, func, literal, select
from sqlalchemy.sql import Subquery

from bookwise.errors import InvalidInput

WHOLE = 1000
"""One account's count credit, in thousandths: ``split`` gives each owner a share of it."""


@dataclass(frozen=True)
class Inputs:
    """What every mode reads: the owners in the role and the accounts' values, then or now."""

    owners: Subquery  # account_id, user_id, started_at, assignment_id
    accounts: Subquery  # account_id, parent_id, mrr, … (the averaged fields)


@dataclass(frozen=True)
class CountingMode:
    """A counting mode: how it reads in English, and its credit rows as SQL."""

    name: str
    english: str
    example: str
    credits: Callable[[Inputs], Select[Any]]


def _owned(inputs: Inputs) -> Select[Any]:
    owners, accounts = inputs.owners, inputs.accounts
    return select(
        owners.c.user_id,
        owners.c.account_id,
        literal(WHOLE, Integer).label("share"),
        accounts.c.mrr.label("mrr"),
    ).join_from(owners, accounts, accounts.c.account_id == owners.c.account_id)


def all_credits(inputs: Inputs) -> Select[Any]:
    """Every owned account, in full, for each of its owners."""
    return _owned(inputs)


def top_level_credits(inputs: Inputs) -> Select[Any]:
    """Every owned account without a parent, in full, for each of its owners."""
    return _owned(inputs).where(inputs.accounts.c.parent_id.is_(None))


def ancestors(accounts: Subquery) -> Any:
    """SQL (account_id, ancestor_id): every ancestor of every account, a recursive CTE over
    the parent links of ``accounts`` (so as of a date, the hierarchy of that date)."""
    start = (
        select(accounts.c.account_id, accounts.c.parent_id.label("ancestor_id"))
        .where(accounts.c.parent_id.is_not(None))
        .cte("ancestors", recursive=True)
    )
    up = accounts.alias("up")
    return start.union_all(
        select(start.c.account_id, up.c.parent_id)
        .join_from(start, up, up.c.account_id == start.c.ancestor_id)
        .where(up.c.parent_id.is_not(None))
    )


def rollup_credits(inputs: Inputs) -> Select[Any]:
    """A book root (no ancestor owned by the same user) counts once, with the MRR of every
    descendant that user owns; those descendants add their MRR and count nothing."""
    owners, accounts = inputs.owners, inputs.accounts
    above = ancestors(accounts)
    ancestor_owner = owners.alias("ancestor_owner")
    below_owner = owners.alias("below_owner")
    # Every (user, account) whose user also owns an ancestor: one join of sets.
    folded = (
        select(below_owner.c.user_id, below_owner.c.account_id)
        .join_from(above, ancestor_owner, ancestor_owner.c.account_id == above.c.ancestor_id)
        .join(
            below_owner,
            and_(
                below_owner.c.account_id == above.c.account_id,
                below_owner.c.user_id == ancestor_owner.c.user_id,
            ),
        )
        .distinct()
        .cte("folded")
        # Computed once: on tables whose statistics predate a bulk load PostgreSQL otherwise
        # reran it for every owner row (minutes at a thousand accounts).
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    # A descendant's MRR goes to the user, not to a particular root row: the report sums
    # per user, and the user owns exactly one root above it (the highest owned ancestor).
    return (
        select(
            owners.c.user_id,
            owners.c.account_id,
            case((folded.c.account_id.is_(None), WHOLE), else_=0).label("share"),
            accounts.c.mrr.label("mrr"),
        )
        .join_from(owners, accounts, accounts.c.account_id == owners.c.account_id)
        .outerjoin(
            folded,
            and_(
                folded.c.user_id == owners.c.user_id,
                folded.c.account_id == owners.c.account_id,
            ),
        )
    )


def split_credits(inputs: Inputs) -> Select[Any]:
    """Each of an account's n owners gets 1/n of it and of its MRR, in whole thousandths and
    minor units; remainders go one each to the earliest-assigned owners."""
    owners, accounts = inputs.owners, inputs.accounts
    owners_n = func.count().over(partition_by=owners.c.account_id)
    rank = func.row_number().over(
        partition_by=owners.c.account_id,
        order_by=(owners.c.started_at, owners.c.assignment_id),
    )
    ranked = (
        select(
            owners.c.user_id,
            owners.c.account_id,
            func.coalesce(accounts.c.mrr, 0).label("whole_mrr"),
            owners_n.label("n"),
            (rank - 1).label("rank"),
        )
        .join_from(owners, accounts, accounts.c.account_id == owners.c.account_id)
        .subquery("ranked")
    )
    return select(
        ranked.c.user_id,
        ranked.c.account_id,
        _part(literal(WHOLE, Integer), ranked.c.n, ranked.c.rank).label("share"),
        _part(ranked.c.whole_mrr, ranked.c.n, ranked.c.rank).label("mrr"),
    )


def _part(whole: Any, n: Any, rank: Any) -> Any:
    """SQL: owner number ``rank`` (0 first)'s part of ``whole`` split n ways, in integers."""
    base = whole // n  # SQLAlchemy's floor division: an integer on both engines
    return base + case((rank < whole - base * n, 1), else_=0)


COUNTING_MODES: dict[str, CountingMode] = {
    mode.name: mode
    for mode in (
        CountingMode(
            name="all",
            english="Every account the CSM owns, directly or inherited; a co-owned account "
            "counts in full for each co-owner.",
            example="Ana and Ben co-own Acme (MRR 900): each has 1 account and 900.",
            credits=all_credits,
        ),
        CountingMode(
            name="top-level",
            english="As all, but only accounts without a parent.",
            example="Acme's child Acme EU is left out for everyone.",
            credits=top_level_credits,
        ),
        CountingMode(
            name="rollup",
            english="An account counts only for a CSM who owns none of its ancestors (a book "
            "root); its MRR includes every descendant the same CSM owns, and its health, "
            "rating and NPS are its own.",
            example="Ana owns Acme and its child Acme EU: 1 account for Ana, with both MRRs.",
            credits=rollup_credits,
        ),
        CountingMode(
            name="split",
            english="As all, but an account with n owners gives each 1/n of its count and "
            "MRR (in thousandths of an account and minor units, remainders to the "
            "earliest-assigned owners), so the CSMs' figures add up to the team total.",
            example="Ana and Ben co-own Acme (MRR 900): each has 0.5 accounts and 450.",
            credits=split_credits,
        ),
    )
}
"""Every counting mode by name, in the order the docs and the selectors list them."""

DEFAULT_COUNTING = "all"


def get_counting_mode(name: str) -> CountingMode:
    """The mode called ``name``, else InvalidInput naming the modes there are."""
    mode = COUNTING_MODES.get(name)
    if mode is None:
        known = ", ".join(COUNTING_MODES)
        raise InvalidInput(f"counting: {name!r} is not a counting mode (one of: {known})")
    return mode


def counting_markdown() -> str:
    """The Markdown table of the counting modes (docs/concepts.md)."""
    lines = ["| mode | how an account is counted | example |", "| --- | --- | --- |"]
    lines += [f"| `{m.name}` | {m.english} | {m.example} |" for m in COUNTING_MODES.values()]
    return "\n".join(lines) + "\n"
