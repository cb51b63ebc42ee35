"""/api/v1/reports: team performance per CSM in an explicit counting mode (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request

from bookwise.http.api.common import api_router, problems
from bookwise.http.api.days import Day
from bookwise.http.api.filters import RoleName, RuleText, SegmentName
from bookwise.http.api.schemas.reports import TeamReport
from bookwise.http.context import reading
from bookwise.http.routing import get
from bookwise.reports.counting import COUNTING_MODES, DEFAULT_COUNTING
from bookwise.reports.team import team_report

router = api_router("reports")

Counting = Literal["all", "top-level", "rollup", "split"]
assert set(Counting.__args__) == set(COUNTING_MODES)  # type: ignore[attr-defined]

COUNTING_DESCRIPTION = "How accounts are credited (docs/concepts.md, Counting modes): " + "; ".join(
    f"`{m.name}`: {m.english}" for m in COUNTING_MODES.values()
)


@get(
    router,
    "/reports/team",
    role="viewer",
    response_model=TeamReport,
    summary="Team performance per CSM",
    responses=problems(404),
)
def get_team_report(
    request: Request,
    counting: Annotated[Counting, Query(description=COUNTING_DESCRIPTION)] = DEFAULT_COUNTING,  # type: ignore[assignment]
    as_of: Annotated[
        Day | None,
        Query(
            description="Report as at the end of this day (installation time zone): "
            "YYYY-MM-DD, today or yesterday. Default: now."
        ),
    ] = None,
    role: Annotated[RoleName, Query(description="The assignment role counted.")] = "csm",
    filter: Annotated[
        RuleText | None,
        Query(description="Only accounts matching this rule (text), as they are now."),
    ] = None,
    segment: Annotated[
        SegmentName | None, Query(description="Only accounts in this saved segment, now.")
    ] = None,
) -> TeamReport:
    """Per CSM: accounts, MRR, average health, CSM rating and NPS (with how many accounts had
    one), health bands and renewals due in 90 days; every active CSM-seat user, then anyone
    else credited (flagged); the team's distinct accounts and MRR; the counting mode."""
    with reading(request) as session:
        report = team_report(
            session, counting=counting, day=as_of, role=role, where=filter, segment=segment
        )
    return TeamReport.model_validate(dict(report))  # the values, not their JSON forms
