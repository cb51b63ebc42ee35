"""The team report as the API documents it: the service's model with an example."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from bookwise.reports import team
from bookwise.reports.counting import COUNTING_MODES

_ROW: dict[str, Any] = {
    "name": "Ana Silva",
    "email": "ana@example.com",
    "active": True,
    "csm_seat": True,
    "flag": None,
    "accounts": 2,
    "mrr": "1500.00",
    "avg_health": "72.50",
    "health_accounts": 2,
    "avg_csm_rating": "4.00",
    "csm_rating_accounts": 1,
    "avg_nps": None,
    "nps_accounts": 0,
    "healthy": 1,
    "neutral": 1,
    "unhealthy": 0,
    "unknown": 0,
    "renewals_90d": 1,
}

TEAM_REPORT_EXAMPLE: dict[str, Any] = {
    "items": [_ROW],
    "total": 1,
    "counting": "rollup",
    "counting_english": COUNTING_MODES["rollup"].english,
    "role": "csm",
    "as_of": "2026-11-30",
    "rule": "tier = 1",
    "team_accounts": 2,
    "team_mrr": "1500.00",
    "healthy_from": 70,
    "unhealthy_below": 40,
}


class TeamReport(team.TeamReport):
    """Every CSM's figures in one counting mode, and the team's totals (distinct accounts)."""

    model_config = ConfigDict(json_schema_extra={"examples": [TEAM_REPORT_EXAMPLE]})
