"""GET/POST /users, PATCH /users/{email}, POST /users/{email}/password, GET /csms."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from bookwise import models
from bookwise.assignments.selection import AccountRefs
from bookwise.assignments.service import assign_accounts
from bookwise.db import read_session, write_session
from bookwise.models import Operation
from tests.factories import actor, make_account, make_user
from tests.http.conftest import sign_in

Api = Callable[..., TestClient]


def _ana_owns_two(engine: Engine) -> None:
    with write_session(engine) as session:
        ana = make_user(session, "ana@example.com", name="Ana")
        make_user(session, "ben@example.com", name="Ben")
        make_user(session, "noseat@example.com", seat=False)
        make_account(session, external_id="A1", mrr="10")
        make_account(session, external_id="A2", mrr="5.25")
        make_account(session, external_id="A3")
        assign_accounts(
            session, selection=AccountRefs(["A1", "A2"]), csms=[ana], actor=actor(session)
        )


def _operations(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Operation)) or 0)


def test_users_list_with_their_book_sizes(engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    body = api_as("viewer").get("/api/v1/users").json()
    by_email = {u["email"]: u for u in body["items"]}
    assert body["total"] == len(body["items"]) == 4  # ana, ben, noseat and the caller
    assert by_email["ana@example.com"]["accounts"] == 2
    assert by_email["noseat@example.com"]["csm_seat"] is False
    assert "cli@bookwise.invalid" not in by_email
    with write_session(engine) as session:
        make_user(session, "gone@example.com", active=False)
    viewer = api_as("viewer")
    everyone = viewer.get("/api/v1/users").json()
    assert "gone@example.com" in {u["email"] for u in everyone["items"]}  # the default
    active = viewer.get("/api/v1/users", params={"include_inactive": "false"}).json()
    assert "gone@example.com" not in {u["email"] for u in active["items"]}
    assert active["total"] == len(active["items"]) == everyone["total"] - 1


def test_only_admins_add_users(engine: Engine, api_as: Api) -> None:
    new = {"email": "Dora@Example.com", "role": "manager", "csm_seat": True}
    refused = api_as("manager").post("/api/v1/users", json=new)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this needs the admin role; you are a manager"
    admin = api_as("admin")
    created = admin.post("/api/v1/users", json=new)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "email": "Dora@example.com",
        "name": "",
        "role": "manager",
        "csm_seat": True,
        "active": True,
        "external_id": None,
        "accounts": 0,
    }
    again = admin.post("/api/v1/users", json={"email": "dora@EXAMPLE.com"})
    assert again.status_code == 409
    invalid = admin.post("/api/v1/users", json={"email": "not an email"})
    assert invalid.status_code == 422
    assert "email" in invalid.json()["detail"]


def test_a_user_added_with_a_password_can_sign_in(app: FastAPI, api_as: Api) -> None:
    admin = api_as("admin")
    body = {"email": "eve@example.com", "password": "long enough password"}
    assert admin.post("/api/v1/users", json=body).status_code == 201
    sign_in(app, "eve@example.com", "long enough password")
    short = admin.post("/api/v1/users", json={"email": "fay@example.com", "password": "short"})
    assert short.status_code == 422
    assert admin.get("/api/v1/users").json()["total"] == 2  # fay was not added either


def test_set_password(app: FastAPI, engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    admin = api_as("admin")
    url = "/api/v1/users/ana@example.com/password"
    response = admin.post(url, json={"password": "a brand new password"})
    assert response.status_code == 204
    assert response.content == b""
    sign_in(app, "ana@example.com", "a brand new password")
    assert admin.post(url, json={"password": "short"}).status_code == 422
    assert (
        admin.post("/api/v1/users/x@example.com/password", json={"password": "a" * 12}).status_code
        == 404
    )
    assert api_as("manager").post(url, json={"password": "x" * 12}).status_code == 403


def test_change_role_and_seat(engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    admin = api_as("admin")
    changed = admin.patch(
        "/api/v1/users/ANA@example.com", json={"role": "admin", "csm_seat": False}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["user"]["role"] == "admin"
    assert body["user"]["csm_seat"] is False
    assert body["user"]["accounts"] == 2  # taking a seat keeps the book
    assert body["deactivation"] is None
    assert (
        admin.patch("/api/v1/users/nobody@example.com", json={"role": "viewer"}).status_code == 404
    )
    assert admin.patch("/api/v1/users/ana@example.com", json={"role": "boss"}).status_code == 422
    assert admin.patch("/api/v1/users/ana@example.com", json={}).status_code == 200


def test_the_last_admin_keeps_the_role(engine: Engine, api_as: Api) -> None:
    admin = api_as("admin")
    me = admin.get("/api/v1/me").json()["email"]
    demoted = admin.patch(f"/api/v1/users/{me}", json={"role": "viewer"})
    assert demoted.status_code == 409
    assert "last active admin" in demoted.json()["detail"]
    deactivated = admin.patch(f"/api/v1/users/{me}", json={"active": False})
    assert deactivated.status_code == 409
    cli = admin.patch("/api/v1/users/cli@bookwise.invalid", json={"role": "viewer"})
    assert cli.status_code == 422


def test_deactivating_an_owner_needs_transfer_to_or_keep(engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    admin = api_as("admin")
    url = "/api/v1/users/ana@example.com"
    refused = admin.patch(url, json={"active": False})
    assert refused.status_code == 409
    assert "still owns 2 accounts" in refused.json()["detail"]
    both = admin.patch(url, json={"active": False, "keep": True, "transfer_to": "ben@example.com"})
    assert both.status_code == 422
    alone = admin.patch(url, json={"keep": True})
    assert alone.status_code == 422
    no_seat = admin.patch(url, json={"active": False, "transfer_to": "noseat@example.com"})
    assert no_seat.status_code == 409


def test_deactivate_with_transfer_previews_then_moves_the_book(engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    admin = api_as("admin")
    url = "/api/v1/users/ana@example.com"
    before = _operations(engine)
    preview = admin.patch(
        url, json={"active": False, "transfer_to": "ben@example.com", "dry_run": True}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["dry_run"] is True
    assert preview.json()["user"]["active"] is False
    assert preview.json()["deactivation"]["operation_id"] is None
    assert preview.json()["deactivation"]["dry_run"] is True
    assert _operations(engine) == before
    assert admin.get("/api/v1/users").json()["items"][0]["active"] is True  # ana, still active
    done = admin.patch(url, json={"active": False, "transfer_to": "ben@example.com"}).json()
    assert done["user"]["active"] is False
    assert done["deactivation"]["kind"] == "deactivate"
    assert done["deactivation"]["operation_id"] is not None
    books = {u["email"]: u["accounts"] for u in admin.get("/api/v1/users").json()["items"]}
    assert books["ana@example.com"] == 0
    assert books["ben@example.com"] == 2
    again = admin.patch(url, json={"active": True}).json()
    assert again["user"]["active"] is True


def test_deactivate_with_keep_lists_the_accounts_under_no_one(engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    admin = api_as("admin")
    kept = admin.patch("/api/v1/users/ana@example.com", json={"active": False, "keep": True})
    assert kept.status_code == 200
    assert kept.json()["deactivation"] is None
    rows = admin.get("/api/v1/accounts", params={"unassigned": True}).json()["items"]
    assert {r["external_id"]: r["owner_inactive"] for r in rows} == {
        "A1": True,
        "A2": True,
        "A3": False,
    }


def test_csm_overview(engine: Engine, api_as: Api) -> None:
    _ana_owns_two(engine)
    body = api_as("viewer").get("/api/v1/csms").json()
    rows = {row["email"]: row for row in body["items"]}
    assert rows["ana@example.com"] == {
        "email": "ana@example.com",
        "name": "Ana",
        "accounts": 2,
        "mrr": "15.25",
    }
    assert rows["ben@example.com"]["mrr"] == "0.00"
    assert "noseat@example.com" not in rows
    assert body["total"] == len(body["items"])
    assert (body["team_accounts"], body["team_mrr"], body["unassigned_accounts"]) == (2, "15.25", 1)
    assert body["counting"].startswith("each co-owner gets full credit")


def test_deactivate_with_transfer_applies_only_the_previewed_book(
    engine: Engine, api_as: Api
) -> None:
    _ana_owns_two(engine)
    admin = api_as("admin")
    url = "/api/v1/users/ana@example.com"
    move = {"active": False, "transfer_to": "ben@example.com"}
    preview = admin.patch(url, json={**move, "dry_run": True}).json()["deactivation"]
    with write_session(engine) as session:
        make_account(session, external_id="NEW")
        assign_accounts(
            session,
            selection=AccountRefs(["NEW"]),
            csms=[
                session.scalars(
                    select(models.User).where(models.User.email == "ana@example.com")
                ).one()
            ],
            actor=actor(session),
        )
    before = _operations(engine)

    stale = admin.patch(url, json={**move, "fingerprint": preview["fingerprint"]})

    assert stale.status_code == 409, stale.text
    assert _operations(engine) == before
    assert admin.get("/api/v1/users").json()["items"][0]["active"] is True  # ana, still active
    fresh = admin.patch(url, json={**move, "dry_run": True}).json()["deactivation"]
    done = admin.patch(url, json={**move, "fingerprint": fresh["fingerprint"]})
    assert done.status_code == 200, done.text
