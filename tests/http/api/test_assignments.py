"""POST /assignments/assign|unassign|transfer|inherit: outcomes, previews, filters, the cap."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.assignments.selection import MAX_EXPLICIT_IDS
from bookwise.db import read_session, write_session
from bookwise.models import Account
from tests.factories import make_account, make_family_tree, make_user
from tests.helpers import chain_violations, open_csms, table_counts

Api = Callable[..., TestClient]


def _people_and_accounts(engine: Engine) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_user(session, "ben@example.com")
        make_user(session, "gone@example.com", active=False)
        make_user(session, "noseat@example.com", seat=False)
        for n in range(1, 6):
            make_account(session, f"Account {n}", external_id=f"A{n}", tier=1 if n < 4 else 2)


def _owners(engine: Engine, ref: str) -> set[str]:
    with read_session(engine) as session:
        account = session.query(Account).filter_by(external_id=ref).one()
        return open_csms(session, account)


def test_assign_by_ids_gives_one_outcome_per_id_in_request_order(
    engine: Engine, api_as: Api
) -> None:
    _people_and_accounts(engine)
    manager = api_as("manager")
    manager.post("/api/v1/assignments/assign", json={"ids": ["A2"], "to": ["ana@example.com"]})
    response = manager.post(
        "/api/v1/assignments/assign",
        json={"ids": ["A3", "NOPE", "A2", "#1"], "to": ["ana@example.com"], "reason": "QBR"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["ref"], i["outcome"]) for i in body["items"]] == [
        ("A3", "assigned"),
        ("NOPE", "not_found"),
        ("A2", "already_assigned"),
        ("#1", "assigned"),
    ]
    assert body["kind"] == "assign"
    assert body["operation_id"] is not None
    assert body["counts"] == {"assigned": 2, "not_found": 1, "already_assigned": 1}
    assert _owners(engine, "A3") == {"ana@example.com"}


def test_refused_csms_and_several_csms(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    body = (
        api_as("manager")
        .post(
            "/api/v1/assignments/assign",
            json={
                "ids": [1],
                "to": ["ana@example.com", "gone@example.com", "noseat@example.com"],
            },
        )
        .json()
    )
    assert [(i["user"], i["outcome"]) for i in body["items"]] == [
        ("ana@example.com", "assigned"),
        ("gone@example.com", "refused_inactive"),
        ("noseat@example.com", "refused_no_seat"),
    ]
    assert len(body["messages"]) == 2


def test_preview_then_apply_with_the_fingerprint(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    manager = api_as("manager")
    request = {"filter": "tier = 1", "to": ["ben@example.com"]}
    before = _table_counts(engine)
    preview = manager.post("/api/v1/assignments/assign", json={**request, "dry_run": True}).json()
    assert preview["dry_run"] is True
    assert preview["operation_id"] is None
    assert preview["items"] is None  # a filter: counts only
    assert preview["counts"] == {"assigned": 3}
    assert len(preview["sample"]) == 3
    assert _table_counts(engine) == before
    applied = manager.post(
        "/api/v1/assignments/assign", json={**request, "fingerprint": preview["fingerprint"]}
    ).json()
    assert applied["fingerprint"] == preview["fingerprint"]
    assert applied["operation_id"] is not None
    assert _owners(engine, "A1") == {"ben@example.com"}


def test_a_changed_change_set_is_a_409(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    manager = api_as("manager")
    request = {"filter": "tier = 1", "to": ["ben@example.com"]}
    preview = manager.post("/api/v1/assignments/assign", json={**request, "dry_run": True}).json()
    manager.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ben@example.com"]})
    stale = manager.post(
        "/api/v1/assignments/assign", json={**request, "fingerprint": preview["fingerprint"]}
    )
    assert stale.status_code == 409
    assert "preview again" in stale.json()["detail"]
    assert _owners(engine, "A2") == set()


def test_unassign_and_transfer(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    manager = api_as("manager")
    manager.post(
        "/api/v1/assignments/assign", json={"ids": ["A1", "A2", "A3"], "to": ["ana@example.com"]}
    )
    unassigned = manager.post(
        "/api/v1/assignments/unassign", json={"ids": ["A1", "A4"], "from": "ana@example.com"}
    ).json()
    assert [(i["ref"], i["outcome"]) for i in unassigned["items"]] == [
        ("A1", "unassigned"),
        ("A4", "not_assigned"),
    ]
    moved = manager.post(
        "/api/v1/assignments/transfer", json={"from": "ana@example.com", "to": "ben@example.com"}
    ).json()
    assert moved["kind"] == "transfer"
    assert moved["counts"]["transferred"] == 2
    assert _owners(engine, "A2") == _owners(engine, "A3") == {"ben@example.com"}
    same = manager.post(
        "/api/v1/assignments/transfer", json={"from": "ben@example.com", "to": "BEN@example.com"}
    )
    assert same.status_code == 422
    unknown = manager.post(
        "/api/v1/assignments/transfer", json={"from": "ben@example.com", "to": "x@example.com"}
    )
    assert unknown.status_code == 404


def test_ownership_filters_select_accounts_to_change(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    manager = api_as("manager")
    manager.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": ["ana@example.com"]})
    body = manager.post(
        "/api/v1/assignments/assign",
        json={"not_assigned_to": "ben@example.com", "who": "no-one", "to": ["ben@example.com"]},
    ).json()
    assert body["counts"] == {"assigned": 4}
    assert _owners(engine, "A1") == {"ana@example.com"}
    assert _owners(engine, "A5") == {"ben@example.com"}


def test_a_selection_is_ids_or_filters_never_both_never_neither(
    engine: Engine, api_as: Api
) -> None:
    _people_and_accounts(engine)
    manager = api_as("manager")
    both = manager.post(
        "/api/v1/assignments/assign",
        json={"ids": ["A1"], "filter": "tier = 1", "to": ["ana@example.com"]},
    )
    assert both.status_code == 422
    assert both.json()["detail"] == "name accounts (ids) or a filter, not both"
    neither = manager.post("/api/v1/assignments/assign", json={"to": ["ana@example.com"]})
    assert neither.status_code == 422
    assert neither.json()["detail"].startswith("name accounts (ids) or a filter")
    nobody = manager.post("/api/v1/assignments/assign", json={"ids": ["A1"], "to": []})
    assert nobody.status_code == 422
    huge = manager.post(
        "/api/v1/assignments/assign", json={"ids": [1 << 40], "to": ["ana@example.com"]}
    )
    assert huge.status_code == 422


def test_more_than_50000_ids_is_a_413_saying_to_use_a_filter(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    ids = [f"X{n}" for n in range(MAX_EXPLICIT_IDS + 1)]
    before = _table_counts(engine)
    response = api_as("manager").post(
        "/api/v1/assignments/assign", json={"ids": ids, "to": ["ana@example.com"]}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/request-too-large")
    assert "50,001 ids" in body["detail"]
    assert "filter" in body["detail"]
    assert _table_counts(engine) == before
    at_the_cap = api_as("manager").post(
        "/api/v1/assignments/assign",
        json={"ids": ids[:MAX_EXPLICIT_IDS], "to": ["ana@example.com"], "dry_run": True},
    )
    assert at_the_cap.status_code == 200
    assert at_the_cap.json()["counts"] == {"not_found": MAX_EXPLICIT_IDS}


def test_inheritance_policy_default_and_reconcile(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        make_family_tree(session, parents=1, children_each=2, inherit=False)
    manager = api_as("manager")
    manager.post("/api/v1/assignments/assign", json={"ids": ["FP0"], "to": ["ana@example.com"]})
    child = manager.get("/api/v1/accounts/FP0").json()["children"]["items"][0]["external_id"]
    assert _owners(engine, child) == set()

    policy = manager.post("/api/v1/assignments/inherit", json={"ids": [child], "policy": "inherit"})
    assert policy.status_code == 200, policy.text
    assert policy.json()["kind"] == "set_policy"
    assert policy.json()["policies_changed"] == 1
    assert _owners(engine, child) == {"ana@example.com"}

    preview = manager.post(
        "/api/v1/assignments/inherit", json={"default_policy": "inherit", "dry_run": True}
    ).json()
    assert preview["kind"] == "set_default_policy"
    assert preview["dry_run"] is True
    applied = manager.post(
        "/api/v1/assignments/inherit",
        json={"default_policy": "inherit", "fingerprint": preview["fingerprint"]},
    ).json()
    assert applied["operation_id"] is not None
    assert all(
        _owners(engine, c["external_id"]) == {"ana@example.com"}
        for c in (manager.get("/api/v1/accounts/FP0").json()["children"]["items"])
    )

    reconcile = manager.post("/api/v1/assignments/inherit", json={})
    assert reconcile.status_code == 200
    assert reconcile.json()["kind"] == "inherit"
    assert reconcile.json()["operation_id"] is None  # nothing left to change

    both = manager.post(
        "/api/v1/assignments/inherit", json={"policy": "own", "default_policy": "own"}
    )
    assert both.status_code == 422
    no_policy = manager.post("/api/v1/assignments/inherit", json={"ids": [child]})
    assert no_policy.status_code == 422
    no_selection = manager.post("/api/v1/assignments/inherit", json={"policy": "own"})
    assert no_selection.status_code == 422
    with read_session(engine) as session:
        assert chain_violations(session) == []


def test_inheriting_accounts_are_refused_in_a_bulk_change(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_user(session, "ana@example.com")
        _, kids = make_family_tree(session, parents=1, children_each=1, inherit=True)
        kid = kids[0].external_id
    body = (
        api_as("manager")
        .post("/api/v1/assignments/assign", json={"ids": [kid], "to": ["ana@example.com"]})
        .json()
    )
    assert body["items"][0]["outcome"] == "refused_inherits"


def test_viewers_cannot_change_ownership(engine: Engine, api_as: Api) -> None:
    _people_and_accounts(engine)
    viewer = api_as("viewer")
    for path, body in [
        ("assign", {"ids": ["A1"], "to": ["ana@example.com"]}),
        ("unassign", {"ids": ["A1"], "from": "ana@example.com"}),
        ("transfer", {"from": "ana@example.com", "to": "ben@example.com"}),
        ("inherit", {}),
    ]:
        response = viewer.post(f"/api/v1/assignments/{path}", json=body)
        assert response.status_code == 403, path
        assert response.json()["type"].endswith("/forbidden")


def _table_counts(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        counts = table_counts(session)
    counts.pop("idempotent_requests", None)
    return counts


def test_inherit_refuses_a_reason_it_could_not_keep(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        make_family_tree(session, parents=1, children_each=1, inherit=False)
    manager = api_as("manager")
    response = manager.post(
        "/api/v1/assignments/inherit", json={"ids": ["FP0"], "policy": "own", "reason": "why"}
    )
    assert response.status_code == 422
    assert "inherit takes no reason" in response.json()["detail"]
