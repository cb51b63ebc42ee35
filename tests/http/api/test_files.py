"""POST /import/accounts (CSV upload, the report line by line) and GET /export/accounts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.csvsafe import EXPORT_MARKER
from bookwise.db import write_session
from tests.factories import make_account, make_user

Api = Callable[..., TestClient]
IMPORT = "/api/v1/import/accounts"

FILE = (
    "Account ID,Account Name,ARR (USD),Health Score,CSM Email,Notes\n"
    "N1,New One,1200.50,80,ana@example.com,first\n"
    "N2,New Two,12;5,90,,second\n"
    "N3,,7,101,,third\n"
    "N4,=HYPERLINK(1),1,50,,fourth\n"
)


def _upload(text: str, name: str = "crm export.csv") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, text.encode(), "text/csv")}


def test_import_reports_every_bad_line_and_keeps_the_good_ones(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
    client = api_as("manager")
    response = client.post(IMPORT, files=_upload(FILE), data={"map": ["ARR (USD)=mrr"]})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["file"] == "crm export.csv"
    assert report["rows_read"] == 4
    assert (report["created"], report["failed"]) == (2, 2)
    assert report["written"] is True
    assert report["ignored_columns"] == ["Notes"]
    assert {"column": "ARR (USD)", "field": "mrr"} in report["mapping"]
    assert report["error_count"] == len(report["errors"]) == 3
    lines = sorted({e["line"] for e in report["errors"]})
    assert lines == [3, 4]
    assert all(set(e) == {"line", "column", "value", "reason"} for e in report["errors"])
    assert report["operation_id"] is not None  # N1's owner
    assert report["owners"]
    detail = client.get("/api/v1/accounts/N1").json()
    assert detail["mrr"] == "1200.50"
    assert detail["owners"]["csm"][0]["source"] == "import"
    assert client.get("/api/v1/accounts/N4").json()["name"] == "=HYPERLINK(1)"


def test_dry_run_and_all_or_nothing_write_nothing(engine: Engine, api_as: Api) -> None:
    client = api_as("manager")
    dry = client.post(IMPORT, files=_upload(FILE), data={"dry_run": "true"}).json()
    assert dry["dry_run"] is True
    assert dry["written"] is False
    assert dry["created"] == 2
    strict = client.post(IMPORT, files=_upload(FILE), data={"all_or_nothing": "true"}).json()
    assert strict["written"] is False
    assert strict["operation_id"] is None
    assert client.get("/api/v1/accounts").json()["total"] == 0


def test_unreadable_files_and_options_are_problems(engine: Engine, api_as: Api) -> None:
    client = api_as("manager")
    empty = client.post(IMPORT, files=_upload(""))
    assert empty.status_code == 422
    assert empty.json()["detail"] == "crm export.csv: the file has no header line"
    bad_map = client.post(IMPORT, files=_upload(FILE), data={"map": ["nonsense"]})
    assert bad_map.status_code == 422
    assert bad_map.json()["detail"].startswith("map 'nonsense': expected SOURCE=FIELD")
    encoding = client.post(IMPORT, files=_upload(FILE), data={"encoding": "klingon"})
    assert encoding.status_code == 422
    no_file = client.post(IMPORT, data={"dry_run": "true"})
    assert no_file.status_code == 422
    assert api_as("viewer").post(IMPORT, files=_upload(FILE)).status_code == 403


def test_an_uploaded_name_never_names_a_server_path(engine: Engine, api_as: Api) -> None:
    report = api_as("manager").post(IMPORT, files=_upload(FILE, "../../etc/passwd")).json()
    assert report["file"] == "passwd"
    empty = api_as("manager").post(IMPORT, files=_upload("", "../../x.csv"))
    assert "/" not in empty.json()["detail"]


def test_export_is_formula_safe_csv_with_the_listings_filters(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_account(session, "=cmd|' /C calc'!A0", external_id="E1", tier=1, mrr="10")
        make_account(session, "Plain", external_id="E2", tier=2)
    client = api_as("viewer")
    response = client.get("/api/v1/export/accounts", params={"sort": "external_id"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="accounts.csv"' in response.headers["content-disposition"]
    lines = response.text.split("\r\n")
    assert lines[0] == EXPORT_MARKER
    rows = list(csv.DictReader(io.StringIO("\r\n".join(lines[1:]))))
    assert [r["external_id"] for r in rows] == ["E1", "E2"]
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["mrr"] == "10.00"
    tier_two = client.get("/api/v1/export/accounts", params={"filter": "tier = 2"}).text
    assert "E2" in tier_two
    assert "E1" not in tier_two
    bad = client.get("/api/v1/export/accounts", params={"filter": "tier ="})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_an_export_imports_back_unchanged(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_account(session, "'s-Hertogenbosch", external_id="H1", region="+31")
    client = api_as("manager")
    exported = client.get("/api/v1/export/accounts").text
    report = client.post(IMPORT, files=_upload(exported, "accounts.csv")).json()
    assert (report["unchanged"], report["failed"]) == (1, 0), report
    assert client.get("/api/v1/accounts/H1").json()["name"] == "'s-Hertogenbosch"
