"""Only an admin may import users, whichever transport calls the service: a file makes admins."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.errors import Refused
from bookwise.importing.users import import_users
from bookwise.models import User
from tests.factories import make_user


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_a_user_below_admin_cannot_import_users(
    session: Session, tmp_path: Path, role: str
) -> None:
    path = tmp_path / "users.csv"
    path.write_text("email,role\nboss@example.com,admin\n", encoding="utf-8")
    caller = make_user(session, "someone@example.com", role=role)
    with pytest.raises(Refused, match=f"needs the admin role; someone@example.com is a {role}"):
        import_users(session, path=path, actor=caller)
    assert session.scalar(select(User).where(User.email == "boss@example.com")) is None
    admin = make_user(session, "root@example.com", role="admin")
    assert import_users(session, path=path, actor=admin).created == 1
