"""GET /me and the caller's API tokens: create (secret shown once), list, revoke."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Api = Callable[..., TestClient]


def test_me_says_who_the_token_acts_as(api_as: Api) -> None:
    me = api_as("viewer", csm_seat=True).get("/api/v1/me").json()
    assert me["role"] == "viewer"
    assert me["csm_seat"] is True
    assert me["email"].startswith("api-viewer")


def test_a_created_token_works_until_it_is_revoked(api_as: Api) -> None:
    viewer = api_as("viewer")
    created = viewer.post("/api/v1/tokens", json={"name": "nightly sync"})
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["token"].startswith(token["prefix"])
    listed = viewer.get("/api/v1/tokens").json()
    assert listed["total"] == 2  # the test's own token and the new one, newest first
    assert listed["items"][0] == {k: v for k, v in token.items() if k != "token"}
    new = TestClient(viewer.app, base_url=str(viewer.base_url))
    new.headers["Authorization"] = f"Bearer {token['token']}"
    assert new.get("/api/v1/me").json() == viewer.get("/api/v1/me").json()
    revoked = viewer.delete(f"/api/v1/tokens/{token['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert new.get("/api/v1/me").status_code == 401


def test_only_admins_revoke_other_users_tokens(api_as: Api) -> None:
    owner = api_as("viewer")
    token_id = owner.post("/api/v1/tokens", json={"name": "mine"}).json()["id"]
    other = api_as("manager").delete(f"/api/v1/tokens/{token_id}")
    assert other.status_code == 404
    assert other.json()["detail"] == f"no API token {token_id}"
    assert owner.get("/api/v1/tokens").json()["items"][0]["revoked_at"] is None
    by_admin = api_as("admin").delete(f"/api/v1/tokens/{token_id}")
    assert by_admin.status_code == 200
    assert owner.get("/api/v1/tokens").json()["items"][0]["revoked_at"] is not None
    assert api_as("admin").delete("/api/v1/tokens/99999").status_code == 404
