"""GET /accounts, POST /accounts/search, GET /accounts/{ref} and its history."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.accounts.service import declare_attribute
from bookwise.assignments.offboarding import deactivate_user
from bookwise.assignments.roles import add_role
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import write_session
from bookwise.segments.service import create_segment
from tests.factories import actor, make_account, make_user

Api = Callable[..., TestClient]


def _book(engine: Engine) -> None:
    """Ana owns A1 and A2 (A2 with Ben), Ben owns B1, Cy (deactivated, kept) owns K1; U1 is free."""
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="Ana")
        ben = make_user(session, "ben@example.com", name="Ben")
        cy = make_user(session, "cy@example.com", name="Cy")
        for ref, name, mrr, tier in [
            ("A1", "Alpha", "5000", 1),
            ("A2", "Beta", "100.50", 2),
            ("B1", "Gamma", "20", 1),
            ("K1", "Kappa", None, 3),
            ("U1", "Upsilon", "7", 2),
        ]:
            make_account(session, name, external_id=ref, mrr=mrr, tier=tier)
        me = actor(session)
        assign_accounts(session, selection=AccountRefs(["A1", "A2"]), csms=[ana], actor=me)
        assign_accounts(session, selection=AccountRefs(["A2", "B1"]), csms=[ben], actor=me)
        assign_accounts(session, selection=AccountRefs(["K1"]), csms=[cy], actor=me)
        deactivate_user(session, user=cy, actor=me, keep=True)


def _refs(response_json: dict[str, object]) -> list[str]:
    items = response_json["items"]
    assert isinstance(items, list)
    return [item["external_id"] for item in items]


def test_list_accounts_is_a_page_with_owners_and_money_as_text(engine: Engine, api_as: Api) -> None:
    _book(engine)
    body = api_as("viewer").get("/api/v1/accounts", params={"sort": "-mrr", "limit": 2}).json()
    assert body["total"] == 5
    assert (body["limit"], body["offset"], body["filter"]) == (2, 0, "all accounts")
    first = body["items"][0]
    assert first["external_id"] == "A1"
    assert first["mrr"] == "5000.00"
    assert first["csms"] == ["ana@example.com"]
    assert body["items"][1]["mrr"] == "100.50"


def test_ownership_filters_mean_what_semantics_says(engine: Engine, api_as: Api) -> None:
    _book(engine)
    client = api_as("viewer")

    def refs(**params: object) -> list[str]:
        response = client.get("/api/v1/accounts", params=params)
        assert response.status_code == 200, response.text
        return sorted(_refs(response.json()))

    assert refs(assigned_to="ana@example.com") == ["A1", "A2"]
    assert refs(not_assigned_to="ana@example.com", who="no-one") == ["K1", "U1"]
    assert refs(not_assigned_to="ANA@example.com", who="others") == ["B1"]
    assert refs(not_assigned_to="ana@example.com") == ["B1", "K1", "U1"]
    assert refs(unassigned="true") == ["K1", "U1"]
    assert refs(filter="tier = 1") == ["A1", "B1"]
    assert refs(filter="tier = 1", assigned_to="ben@example.com") == ["B1"]
    owner_inactive = client.get("/api/v1/accounts", params={"filter": 'external_id = "K1"'})
    assert owner_inactive.json()["items"][0]["owner_inactive"] is True


def test_segment_filter_and_its_words(engine: Engine, api_as: Api) -> None:
    _book(engine)
    with write_session(engine) as session:
        create_segment(session, name="Big ones", rule="mrr >= 100", actor=actor(session))
    body = api_as("viewer").get("/api/v1/accounts", params={"segment": "big ONES"}).json()
    assert sorted(_refs(body)) == ["A1", "A2"]
    assert body["filter"] == "segment: Big ones"


def test_unknown_user_segment_and_sort_are_problems(engine: Engine, api_as: Api) -> None:
    _book(engine)
    client = api_as("viewer")
    unknown = client.get("/api/v1/accounts", params={"assigned_to": "nobody@example.com"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no user with email nobody@example.com"
    assert client.get("/api/v1/accounts", params={"segment": "nope"}).status_code == 404
    sort = client.get("/api/v1/accounts", params={"sort": "shoe_size"})
    assert sort.status_code == 422
    assert "sortable:" in sort.json()["detail"]
    who = client.get("/api/v1/accounts", params={"who": "no-one"})
    assert who.status_code == 422
    assert who.json()["detail"] == "who only applies together with not_assigned_to"


def test_a_bad_rule_is_a_422_with_its_position(engine: Engine, api_as: Api) -> None:
    response = api_as("viewer").get("/api/v1/accounts", params={"filter": "tier = 1 and helth < 5"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/invalid-rule")
    assert body["position"] == 13
    assert body["reason"] == "unknown field 'helth'"
    assert body["detail"].startswith("invalid rule: unknown field 'helth' (column 14)")


def test_paging_and_limits(engine: Engine, api_as: Api) -> None:
    _book(engine)
    client = api_as("viewer")
    second = client.get("/api/v1/accounts", params={"limit": 2, "offset": 2}).json()
    assert _refs(second) == ["B1", "K1"]  # by name: Alpha, Beta, Gamma, Kappa, Upsilon
    assert second["total"] == 5
    assert client.get("/api/v1/accounts", params={"limit": 1001}).status_code == 422
    repeated = client.get("/api/v1/accounts?role=csm&role=x")
    assert repeated.status_code == 422
    assert "role" in repeated.json()["detail"]


def test_search_takes_the_rule_as_text_or_json(engine: Engine, api_as: Api) -> None:
    _book(engine)
    client = api_as("viewer")
    as_text = client.post("/api/v1/accounts/search", json={"rule": "tier = 2", "sort": "name"})
    as_json = client.post(
        "/api/v1/accounts/search",
        json={
            "rule": {
                "kind": "condition",
                "field": "tier",
                "op": "=",
                "value": {"type": "number", "value": "2"},
            }
        },
    )
    assert _refs(as_text.json()) == _refs(as_json.json()) == ["A2", "U1"]
    assert as_json.json()["filter"] == "rule: tier = 2"
    bad = client.post("/api/v1/accounts/search", json={"rule": {"kind": "condition"}})
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/invalid-rule")
    assert "path" in bad.json()
    extra = client.post("/api/v1/accounts/search", json={"rules": "tier = 1"})
    assert extra.status_code == 422


def test_account_detail_has_hierarchy_owners_policy_and_custom_values(
    engine: Engine, api_as: Api
) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com")
        declare_attribute(session, name="arr", type="money", actor=actor(session))
        parent = make_account(session, "Acme", external_id="ACME")
        child = make_account(
            session, "Acme DE", external_id="ACME-DE", parent=parent, inherit_policy="inherit"
        )
        make_account(session, "Acme FR", external_id="ACME-FR", parent=parent)
        child.custom = {"arr": 123456}
        assign_accounts(session, selection=AccountRefs(["ACME"]), csms=[ana], actor=actor(session))
    client = api_as("viewer")
    top = client.get("/api/v1/accounts/ACME").json()
    assert top["is_parent"] is True
    assert top["is_child"] is False
    assert top["parent"] is None
    assert top["effective_policy"] == "own"
    assert top["owners"]["csm"][0]["email"] == "ana@example.com"
    assert top["owners"]["csm"][0]["source"] == "manual"
    assert top["children"]["total"] == 2
    assert [c["external_id"] for c in top["children"]["items"]] == ["ACME-DE", "ACME-FR"]
    assert top["children"]["items"][0]["csms"] == ["ana@example.com"]  # inherited
    assert top["children"]["items"][1]["csms"] == []
    by_id = client.get(f"/api/v1/accounts/{top['children']['items'][0]['id']}").json()
    assert by_id["external_id"] == "ACME-DE"
    assert by_id["parent"]["external_id"] == "ACME"
    assert by_id["policy"] == "inherit"
    assert by_id["custom"] == {"arr": "1234.56"}
    assert by_id["owners"]["csm"][0]["source"] == "inherited"
    missing = client.get("/api/v1/accounts/NOPE")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no account with external id or id 'NOPE'"


def test_history_is_the_timeline_or_the_owners_on_a_day(engine: Engine, api_as: Api) -> None:
    _book(engine)
    client = api_as("viewer")
    history = client.get("/api/v1/accounts/A2/history").json()
    assert history["total"] == 2
    assert [row["user"] for row in history["items"]] == ["ana@example.com", "ben@example.com"]
    assert history["items"][0]["actor"] == "cli@bookwise.invalid"
    assert history["items"][0]["ended_at"] is None
    paged = client.get("/api/v1/accounts/A2/history", params={"limit": 1, "offset": 1}).json()
    assert (paged["total"], paged["limit"], paged["offset"]) == (2, 1, 1)
    assert paged["items"] == history["items"][1:]
    long_ago = client.get("/api/v1/accounts/A2/history", params={"on": "2000-01-01"}).json()
    assert long_ago == {"items": [], "total": 0, "limit": 1000, "offset": 0, "on": "2000-01-01"}
    assert client.get("/api/v1/accounts/NOPE/history").status_code == 404
    assert client.get("/api/v1/accounts/A2/history", params={"on": "9999-12-31"}).status_code == 422


def test_a_listing_in_another_role_shows_the_owners_in_that_role(
    engine: Engine, api_as: Api
) -> None:
    """Issue 13, defect 3: ``role=account_manager`` lists (and flags) account managers."""
    _book(engine)
    with write_session(engine) as session:
        me = actor(session)
        add_role(session, name="account_manager", actor=me)
        mo = make_user(session, "mo@example.com")
        gone = make_user(session, "gone-am@example.com")
        assign_accounts(
            session, selection=AccountRefs(["A1"]), csms=[mo], actor=me, role="account_manager"
        )
        assign_accounts(
            session, selection=AccountRefs(["B1"]), csms=[gone], actor=me, role="account_manager"
        )
        deactivate_user(session, user=gone, actor=me, keep=True)
    client = api_as("viewer")
    mine = client.get(
        "/api/v1/accounts", params={"assigned_to": "mo@example.com", "role": "account_manager"}
    ).json()
    assert [(a["external_id"], a["csms"], a["owner_inactive"]) for a in mine["items"]] == [
        ("A1", ["mo@example.com"], False)
    ]
    nobody = client.get(
        "/api/v1/accounts", params={"unassigned": "true", "role": "account_manager"}
    ).json()
    listed = {a["external_id"]: (a["csms"], a["owner_inactive"]) for a in nobody["items"]}
    assert listed["B1"] == (["gone-am@example.com"], True)
    assert listed["A2"] == ([], False)
