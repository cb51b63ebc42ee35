"""GET /api/v1/reports/team: the same figures as the CLI and the service, the mode named."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.db import read_session, write_session
from bookwise.reports.counting import COUNTING_MODES
from bookwise.reports.team import team_report
from tests.reports.test_counting_modes import build_hierarchy

Api = Callable[..., TestClient]


def test_every_mode_answers_what_the_service_does(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        build_hierarchy(session)
    api = api_as("viewer")
    for mode in COUNTING_MODES:
        got = api.get("/api/v1/reports/team", params={"counting": mode, "as_of": "today"})
        assert got.status_code == 200, got.text
        body = got.json()
        with read_session(engine) as session:
            from bookwise.dates import today

            expected = team_report(session, counting=mode, day=today()).model_dump(mode="json")
        diff = [
            {k: (a[k], b[k]) for k in a if a[k] != b[k]}
            for a, b in zip(body["items"], expected["items"], strict=True)
        ]
        assert body == expected, diff[:1]
        assert body["counting"] == mode
        assert {"email", "name", "accounts", "mrr", "avg_health", "avg_csm_rating", "avg_nps"} <= (
            set(body["items"][0])
        )


def test_filter_and_segment_and_bad_input(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        build_hierarchy(session)
    api = api_as("viewer")
    body = api.get("/api/v1/reports/team", params={"filter": 'name = "Solo"'}).json()
    assert (body["team_accounts"], body["rule"]) == (1, 'name = "Solo"')
    bad = api.get("/api/v1/reports/team", params={"counting": "sum"})
    assert bad.status_code == 422
    assert "counting" in bad.text
    both = api.get("/api/v1/reports/team", params={"filter": "tier = 1", "segment": "x"})
    assert both.status_code == 422
    assert "not both" in both.text
    role = api.get("/api/v1/reports/team", params={"role": "nobody"})
    assert role.status_code == 404
