"""What a bulk operation acts on: ids as the caller named them, or a query of account ids.

Rules and segments (a later layer) compile to an ``AccountQuery``; the assignment services
never import them, so the layers stay one-way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from bookwise.errors import RequestTooLarge

MAX_EXPLICIT_IDS = 50_000


@dataclass(frozen=True)
class AccountRefs:
    """Accounts named one by one (external ids, or ids); results come back in this order."""

    refs: Sequence[str | int]

    def __post_init__(self) -> None:
        if len(self.refs) > MAX_EXPLICIT_IDS:
            raise RequestTooLarge(
                f"{len(self.refs):,} ids in one request; the limit is {MAX_EXPLICIT_IDS:,}. "
                "Select the accounts with a filter instead (e.g. --assigned-to, --who, "
                "or a rule), which has no limit."
            )


@dataclass(frozen=True)
class AccountQuery:
    """Every account whose id the query returns; ``description`` is stored on the operation."""

    ids: Select[Any]
    description: str


Selection = AccountRefs | AccountQuery
