"""POST /import/accounts says prominently when owners were left unchanged; users by name."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.accounts.service import get_account
from bookwise.db import read_session, write_session
from tests.factories import make_account, make_user
from tests.helpers import open_csms

Api = Callable[..., TestClient]
IMPORT = "/api/v1/import/accounts"


def test_an_ignored_owner_like_column_is_a_warning(engine: Engine, api_as: Api) -> None:
    text = "Id,Name,Account_Manager__c\nA1,Acme,ana@example.com\n"
    client = api_as("manager")

    report = client.post(IMPORT, files={"file": ("sf.csv", text.encode(), "text/csv")}).json()

    assert report["has_owner_column"] is False
    assert report["ignored_owner_columns"] == ["Account_Manager__c"]
    assert report["warnings"][0] == "owners unchanged: no owner column"
    assert "Account_Manager__c=csms" in report["warnings"][1]


def test_a_custom_owner_column_is_read(engine: Engine, api_as: Api) -> None:
    text = "Id,Name,CSM_Email__c\nA1,Acme,\n"
    client = api_as("manager")

    report = client.post(IMPORT, files={"file": ("sf.csv", text.encode(), "text/csv")}).json()

    assert {"column": "CSM_Email__c", "field": "csms"} in report["mapping"]
    assert (report["has_owner_column"], report["warnings"]) == (True, [])


def test_the_api_names_a_csm_by_full_name(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com", name="Ana Silva")
        make_user(session, "ana2@example.com", name="Ana Silva Two")
        make_account(session, "Acme", external_id="A1")
    client = api_as("manager")

    done = client.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana SILVA"]})
    assert done.status_code == 200, done.text
    with read_session(engine) as session:
        assert open_csms(session, get_account(session, "A1")) == {"ana@example.com"}
    listed = client.get("/api/v1/accounts", params={"assigned_to": "Ana Silva"}).json()
    assert [a["external_id"] for a in listed["items"]] == ["A1"]
