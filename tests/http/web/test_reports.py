"""The Team report page: the mode named in the caption, names first, the CSV download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from sqlalchemy import Engine

from bookwise.db import write_session
from tests.http.conftest import SignedIn
from tests.reports.test_counting_modes import build_hierarchy


def test_the_page_names_the_mode_and_lists_csms_by_name(
    engine: Engine, as_role: Callable[..., SignedIn]
) -> None:
    with write_session(engine) as session:
        build_hierarchy(session)
    viewer = as_role("viewer")
    shown = viewer.client.get("/reports/team", params={"counting": "rollup"})
    assert shown.status_code == 200
    html = shown.text
    assert "Counting <strong>rollup</strong>: An account counts only for a CSM" in html
    assert html.index(">Ana<") < html.index("ana@example.com")
    assert "(inactive)" in html  # Dee
    assert 'href="/reports/team.csv?counting=rollup"' in html
    # Money as everywhere on the pages (grouped), and how many accounts an average rests on.
    assert "1,320.00" in html  # Ana's book root Parent with what she owns below it
    assert re.search(r">of \d+</span>", html)

    download = viewer.client.get("/reports/team.csv", params={"counting": "split"})
    assert download.headers["content-disposition"] == 'attachment; filename="team-split-now.csv"'
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["name"] for r in rows] == ["Ana", "Ben", "Cy", "Dee", "Eve"]
    assert rows[3]["accounts"] == "0.500"


def test_a_bad_rule_or_day_is_shown_on_the_page(
    engine: Engine, as_role: Callable[..., SignedIn]
) -> None:
    viewer = as_role("viewer")
    bad = viewer.client.get("/reports/team", params={"where": "tier ="})
    assert bad.status_code in (400, 422)
    assert "ends too early" in bad.text
    day = viewer.client.get("/reports/team", params={"as_of": "soon"})
    assert "is not a date" in day.text
