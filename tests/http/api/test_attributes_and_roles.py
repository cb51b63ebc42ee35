"""/api/v1/attributes and /api/v1/roles: everyone reads, admins write, the CLI's checks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bookwise.accounts.service import build_fields, create_account, declare_attribute
from bookwise.db import read_session, write_session
from bookwise.models import Account, AssignmentRole, AuditEvent
from bookwise.segments.service import create_segment, get_segment
from tests.factories import actor

Api = Callable[..., TestClient]


def test_admins_declare_attributes_and_everyone_lists_them(engine: Engine, api_as: Api) -> None:
    admin, viewer = api_as("admin"), api_as("viewer")
    plan = {"name": "plan", "type": "choice", "choices": ["free", " pro ", ""]}
    created = admin.post("/api/v1/attributes", json=plan)
    assert created.status_code == 201, created.text
    assert created.json()["choices"] == ["free", "pro"]
    assert (
        admin.post("/api/v1/attributes", json={"name": "renews", "type": "date"}).status_code == 201
    )
    listed = viewer.get("/api/v1/attributes").json()
    assert [(a["name"], a["type"]) for a in listed["items"]] == [
        ("plan", "choice"),
        ("renews", "date"),
    ]
    assert listed["total"] == 2
    with read_session(engine) as session:
        assert session.query(AuditEvent).filter_by(subject_type="attribute").count() == 2


def test_managers_and_viewers_may_not_declare_or_rename(api_as: Api) -> None:
    for role in ("viewer", "manager"):
        client = api_as(role)
        refused = client.post("/api/v1/attributes", json={"name": "plan", "type": "text"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == f"this needs the admin role; you are a {role}"
        renamed = client.post("/api/v1/attributes/plan/rename", json={"name": "tier"})
        assert renamed.status_code == 403
        assert client.post("/api/v1/roles", json={"name": "am"}).status_code == 403


def test_the_cli_checks_and_messages(api_as: Api) -> None:
    admin = api_as("admin")
    bad_name = admin.post("/api/v1/attributes", json={"name": "2nd plan", "type": "text"})
    assert bad_name.status_code == 422
    assert "must be a letter or _ followed by letters, digits or _" in bad_name.json()["detail"]
    no_choices = admin.post("/api/v1/attributes", json={"name": "plan", "type": "choice"})
    assert no_choices.status_code == 422
    assert "choices are required for a choice attribute" in no_choices.json()["detail"]
    stray = admin.post("/api/v1/attributes", json={"name": "n", "type": "text", "choices": ["a"]})
    assert stray.status_code == 422
    unknown_type = admin.post("/api/v1/attributes", json={"name": "plan", "type": "colour"})
    assert unknown_type.status_code == 422
    assert (
        admin.post("/api/v1/attributes", json={"name": "plan", "type": "text"}).status_code == 201
    )
    again = admin.post("/api/v1/attributes", json={"name": "plan", "type": "number"})
    assert again.status_code == 409
    assert "already declared" in again.json()["detail"]


def test_rename_moves_every_value_and_rewrites_segment_rules(engine: Engine, api_as: Api) -> None:
    with write_session(engine) as session:
        declare_attribute(session, name="plan", type="text", actor=actor(session))
        declare_attribute(session, name="tier_name", type="text", actor=actor(session))
        create_account(
            session,
            fields=build_fields(name="Acme", external_id="A1"),
            custom={"plan": "pro"},
            actor=actor(session),
        )
        create_segment(session, name="Pro", rule='custom.plan = "pro"', actor=actor(session))
    admin = api_as("admin")
    renamed = admin.post("/api/v1/attributes/plan/rename", json={"name": "contract_plan"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["attribute"]["name"] == "contract_plan"
    assert renamed.json()["segments"] == ["Pro"]
    with read_session(engine) as session:
        account = session.query(Account).filter_by(external_id="A1").one()
        assert account.custom == {"contract_plan": "pro"}
        assert get_segment(session, "Pro").rule_text == 'custom.contract_plan = "pro"'
    missing = admin.post("/api/v1/attributes/nothing/rename", json={"name": "x"})
    assert missing.status_code == 404
    assert "no custom attribute 'nothing'" in missing.json()["detail"]
    taken = admin.post("/api/v1/attributes/contract_plan/rename", json={"name": "tier_name"})
    assert taken.status_code == 409


def test_admins_add_roles_and_everyone_lists_them(engine: Engine, api_as: Api) -> None:
    admin = api_as("admin")
    added = admin.post(
        "/api/v1/roles",
        json={"name": "Account_Manager", "inheritable": True, "description": "Commercial"},
    )
    assert added.status_code == 201, added.text
    assert added.json() == {
        "name": "account_manager",
        "inheritable": True,
        "description": "Commercial",
    }
    listed = api_as("viewer").get("/api/v1/roles").json()
    assert [(r["name"], r["inheritable"]) for r in listed["items"]] == [
        ("account_manager", True),
        ("csm", True),
    ]
    again = admin.post("/api/v1/roles", json={"name": "account_manager"})
    assert again.status_code == 409
    bad = admin.post("/api/v1/roles", json={"name": "Account Manager"})
    assert bad.status_code == 422
    assert "must start with a letter" in bad.json()["detail"]
    with read_session(engine) as session:
        assert session.query(AssignmentRole).count() == 2
