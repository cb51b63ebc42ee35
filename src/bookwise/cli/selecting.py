"""Which accounts a command acts on: ids named one by one, or the assignment screen's filters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from bookwise.assignments import queries
from bookwise.assignments.selection import AccountQuery, AccountRefs, Selection
from bookwise.errors import InvalidInput
from bookwise.segments.rules import compile_where, segment_rule
from bookwise.segments.service import get_segment
from bookwise.users.service import get_user


class WhoChoice(StrEnum):
    """Which accounts not assigned to a CSM: no-one's, other CSMs', or both."""

    no_one = "no-one"
    others = "others"
    all = "all"


RefsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="REF",
        help="Accounts by external id or numeric id (results come back in this order).",
        show_default=False,
    ),
]
IdsFromOption = Annotated[
    str | None,
    typer.Option(
        "--ids-from",
        metavar="FILE|-",
        help="Read more account refs from FILE (or stdin with -), one per line.",
    ),
]
AssignedToOption = Annotated[
    str | None,
    typer.Option("--assigned-to", metavar="EMAIL", help="Only accounts EMAIL owns."),
]
NotAssignedToOption = Annotated[
    str | None,
    typer.Option(
        "--not-assigned-to", metavar="EMAIL", help="Only accounts EMAIL does not own (see --who)."
    ),
]
WhoOption = Annotated[
    WhoChoice | None,
    typer.Option(
        "--who",
        help="With --not-assigned-to: no-one (no active CSM; includes owner inactive), "
        "others (owned only by other CSMs), all (both; the default).",
        show_default=False,
    ),
]
UnassignedOption = Annotated[
    bool, typer.Option("--unassigned", help="Only accounts that no active user owns.")
]
WhereOption = Annotated[
    str | None,
    typer.Option(
        "--where",
        metavar="RULE",
        help='Only accounts matching RULE, e.g. --where "tier = 1 and health_score < 50" '
        "(see docs/rule-language.md).",
    ),
]
SegmentOption = Annotated[
    str | None,
    typer.Option("--segment", metavar="NAME", help="Only accounts in the saved segment NAME."),
]
RoleOption = Annotated[
    str,
    typer.Option(
        "--role", metavar="ROLE", help="The assignment role the filters and the change are about."
    ),
]


@dataclass(frozen=True)
class FilterArgs:
    """The filter options as typed on the command line (users still named by email)."""

    assigned_to: str | None = None
    not_assigned_to: str | None = None
    who: WhoChoice | None = None
    unassigned: bool = False
    role: str = "csm"
    where: str | None = None
    segment: str | None = None

    def given(self) -> bool:
        """True when at least one filter narrows the accounts."""
        return bool(
            self.assigned_to
            or self.not_assigned_to
            or self.unassigned
            or self.where is not None
            or self.segment is not None
        )

    def conditions(self, session: Session) -> tuple[list[ColumnElement[bool]], str]:
        """Every filter as SQL conditions on ``Account`` (all narrow), and the filter in words."""
        ownership = self.build(session)
        where = ownership.conditions()
        words = [ownership.describe()] if ownership.describe() != "all accounts" else []
        if self.where is not None:
            compiled = compile_where(session, self.where)
            where.append(compiled.where)
            words.append(f"rule: {compiled.text}")
        if self.segment is not None:
            # Looked up first: an unknown name is NotFound (with a suggestion), not a bad rule,
            # and the operation records the segment under its own spelling.
            name = get_segment(session, self.segment).name
            where.append(segment_rule(session, name).where)
            words.append(f"segment: {name}")
        return where, ", ".join(words) or "all accounts"

    def build(self, session: Session) -> queries.OwnershipFilter:
        """The OwnershipFilter, with each email resolved to its user (unknown → NotFound)."""
        if self.who is not None and self.not_assigned_to is None:
            raise InvalidInput("--who only applies together with --not-assigned-to EMAIL")
        return queries.OwnershipFilter(
            assigned_to=get_user(session, self.assigned_to) if self.assigned_to else None,
            not_assigned_to=(
                get_user(session, self.not_assigned_to) if self.not_assigned_to else None
            ),
            who=(self.who or WhoChoice.all).value,
            unassigned=self.unassigned,
            role=self.role,
        )


def read_refs(refs: list[str] | None, ids_from: str | None) -> list[str]:
    """The refs from the arguments followed by those in ``--ids-from`` (blank lines skipped)."""
    found = [r.strip() for r in refs or [] if r.strip()]
    if ids_from is None:
        return found
    if ids_from == "-":
        text = typer.get_text_stream("stdin").read()
    else:
        try:
            text = Path(ids_from).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InvalidInput(f"--ids-from {ids_from}: {exc.strerror or exc}") from None
    found.extend(line.strip() for line in text.splitlines() if line.strip())
    return found


def build_selection(
    session: Session, refs: list[str], filters: FilterArgs, *, required: bool
) -> Selection | None:
    """Refs → AccountRefs; filters → AccountQuery; both is an error; neither is None."""
    if refs and filters.given():
        raise InvalidInput("name accounts or a filter, not both")
    if refs:
        return AccountRefs(refs)
    if filters.given():
        where, described = filters.conditions(session)
        return AccountQuery(ids=queries.account_ids(where), description=described)
    if filters.who is not None:
        raise InvalidInput("--who only applies together with --not-assigned-to EMAIL")
    if required:
        raise InvalidInput(
            "name accounts or a filter (e.g. REF..., --where RULE, --segment NAME or "
            "--not-assigned-to EMAIL --who no-one)"
        )
    return None
