"""POST /import/accounts says prominently when owners were left unchanged."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

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
