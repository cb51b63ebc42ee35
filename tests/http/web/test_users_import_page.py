"""Users import on the web (issue 15): admins only, the dry run's mapping first, then the result."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from sqlalchemy import Engine, select

from bookwise.db import read_session
from bookwise.models import User
from tests.http.conftest import SignedIn
from tests.http.web.page import Page
from tests.http.web.test_files import post_form, upload, uploaded

MAKES_AN_ADMIN = "Email,Name,Role\nboss@example.com,Boss,admin\n"


def roles(engine: Engine) -> dict[str, str]:
    with read_session(engine) as session:
        return {email: role for email, role in session.execute(select(User.email, User.role))}


def test_a_manager_is_not_offered_users_and_cannot_upload_them(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    manager = as_role("manager")
    form = Page.of(manager.client.get("/import"))
    assert form.values("kind") == ["accounts"]  # failed before: a manager was offered users

    refused = upload(manager, MAKES_AN_ADMIN, kind="users")

    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "needs the admin role" in refused.text  # type: ignore[attr-defined]
    assert uploaded(engine) == (0, 0)
    assert "boss@example.com" not in roles(engine)  # failed before: the manager made an admin


def test_an_admin_sees_the_mapping_first_then_the_result_and_the_error_report(
    as_role: Callable[..., SignedIn], engine: Engine
) -> None:
    admin = as_role("admin")
    assert Page.of(admin.client.get("/import")).values("kind") == ["accounts", "users"]
    text = (
        "Email,Full Name,Role,Team\n"
        "new@example.com,New Person,viewer,EMEA\n"
        "x@example.com,X,boss,US\n"  # line 3: no such role
    )
    location = upload(admin, text, kind="users").headers["location"]  # type: ignore[attr-defined]

    shown = Page.of(admin.client.get(location))
    preview = shown.text()
    assert "Nothing has been imported yet" in preview
    mapping = [row.text() for row in shown.root.find_all("tr") if row.find_all("td")][:4]
    assert mapping == ["Email email", "Full Name name", "Role role", "Team ignored"]
    assert "'boss' is not admin, manager or viewer" in preview
    assert "new@example.com" not in roles(engine)

    post_form(admin, location + "/apply")
    result = Page.of(admin.client.get(location)).text()
    assert "1 created" in result
    assert "1 failed" in result
    assert roles(engine)["new@example.com"] == "viewer"
    errors = list(csv.reader(io.StringIO(admin.client.get(location + "/errors.csv").text)))
    assert errors == [
        ["line", "column", "value", "reason"],
        ["3", "Role", "boss", "''boss' is not admin, manager or viewer"],  # formula-safe
    ]
