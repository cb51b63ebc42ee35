"""A users file that deactivates or demotes someone goes through the same guards as the CLI."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bookwise.auth.service import create_token, session_user, start_session, token_user
from bookwise.importing.users import import_users
from tests.factories import actor, make_user


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_that_deactivates_a_user_ends_their_sessions_and_tokens(
    session: Session, tmp_path: Path
) -> None:
    admin = make_user(session, "root@example.com", role="admin")
    ana = make_user(session, "ana@example.com", seat=False)
    started = start_session(session, user=ana)
    token = create_token(session, user=ana, name="script", actor=actor(session))
    deactivate = _file(tmp_path, "email,active\nana@example.com,false\n")
    assert import_users(session, path=deactivate, actor=admin).updated == 1
    reactivate = _file(tmp_path, "email,active\nana@example.com,true\n")
    assert import_users(session, path=reactivate, actor=admin).updated == 1
    assert session_user(session, started.token) is None
    assert token_user(session, token.secret) is None


def test_an_import_keeps_the_last_admin(session: Session, tmp_path: Path) -> None:
    admin = make_user(session, "root@example.com", role="admin")
    for change in ("email,role\nroot@example.com,viewer\n", "email,active\nroot@example.com,no\n"):
        report = import_users(session, path=_file(tmp_path, change), actor=admin)
        assert report.failed == 1
        assert "last active admin" in report.errors[0].reason
    assert (admin.role, admin.active) == ("admin", True)
