"""The Team report page: per CSM figures in a chosen counting mode, as of a day, narrowed by
a rule; its CSV download is the CLI's ``--format csv``."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bookwise.csvsafe import SafeCsvWriter
from bookwise.dates import DATE_FORMS, parse_date
from bookwise.http.context import reading
from bookwise.http.routing import get
from bookwise.http.web.common import USER_ERRORS, ShownError, href
from bookwise.http.web.templating import page
from bookwise.reports.counting import COUNTING_MODES, DEFAULT_COUNTING
from bookwise.reports.team import TeamReport, team_report

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=10_000)]


class TeamQuery:
    """The page's choices as the query string carries them (also the CSV's)."""

    def __init__(self, counting: str, as_of: str, role: str, where: str) -> None:
        self.counting = counting if counting in COUNTING_MODES else DEFAULT_COUNTING
        self.as_of = as_of.strip()
        self.role = role.strip() or "csm"
        self.where = where.strip()

    def params(self) -> dict[str, str]:
        """The non-default choices, for links."""
        given = {"counting": self.counting, "as_of": self.as_of, "where": self.where}
        if self.role != "csm":
            given["role"] = self.role
        return {k: v for k, v in given.items() if v}

    def day(self) -> date | None:
        """The as-of day, or None for now."""
        return parse_date(self.as_of, field="as of") if self.as_of else None

    def report(self, request: Request) -> TeamReport:
        """The report these choices ask for."""
        with reading(request) as session:
            return team_report(
                session,
                counting=self.counting,
                day=self.day(),
                role=self.role,
                where=self.where or None,
            )


@get(router, "/reports/team", role="viewer")
def team_page(
    request: Request, counting: Text = "", as_of: Text = "", role: Text = "", where: Text = ""
) -> Any:
    """Per CSM: accounts, MRR, averages, health bands and renewals due, in a counting mode."""
    choice = TeamQuery(counting, as_of, role, where)
    error, report = None, None
    try:
        report = choice.report(request)
    except USER_ERRORS as exc:
        error = ShownError.of(exc)
    return page(
        request,
        "team_report.html",
        error.status if error else 200,
        choice=choice,
        modes=list(COUNTING_MODES.values()),
        report=report,
        error=error,
        csv_href=href("/reports/team.csv", choice.params()),
        date_forms=DATE_FORMS,
    )


@get(router, "/reports/team.csv", role="viewer")
def team_csv(
    request: Request, counting: Text = "", as_of: Text = "", role: Text = "", where: Text = ""
) -> Response:
    """The report as CSV: one row per CSM, the columns of ``bookwise reports team --format
    csv`` (the figures of a few hundred users: written at once, not spooled)."""
    report = TeamQuery(counting, as_of, role, where).report(request)
    items = report.model_dump(mode="json")["items"]
    out = io.StringIO()
    writer = SafeCsvWriter(out, lineterminator="\n")
    keys = list(report.items[0].model_dump()) if report.items else ["name", "email"]
    writer.writerow(keys)
    for item in items:
        writer.writerow([item[k] for k in keys])
    name = f"team-{report.counting}-{report.as_of or 'now'}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
