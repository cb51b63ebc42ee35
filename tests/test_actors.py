"""Every mutating service takes a keyword-only ``actor`` and writes its history with it.

CONVENTIONS.md ("Writes") promises it; the scan below finds every public function that writes
an audit event or runs an operation, and the tests after it check the services that used to
write without an actor: moving an account, refreshing segments, creating a user.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwise.accounts.service import set_parent
from bookwise.assignments.inheritance import move_account
from bookwise.assignments.undo import undo_operation
from bookwise.audit import AuditAction
from bookwise.models import AuditEvent
from bookwise.segments.service import create_segment, refresh_segments
from bookwise.users.service import create_user
from tests.factories import actor, make_account, make_user

SRC = Path(__file__).resolve().parents[1] / "src" / "bookwise"
HISTORY_WRITERS = {"record_event", "run_operation"}


def _takes_an_actor(function: ast.FunctionDef) -> bool:
    """True when ``actor`` is keyword-only, required and a ``User`` (never optional)."""
    arguments = zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True)
    return any(
        arg.arg == "actor"
        and default is None
        and arg.annotation is not None
        and ast.unparse(arg.annotation) == "User"
        for arg, default in arguments
    )


def test_every_public_function_that_writes_history_takes_a_required_actor() -> None:
    writers, missing = 0, []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "audit.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            called = {
                getattr(call.func, "id", getattr(call.func, "attr", ""))
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
            }
            if called & HISTORY_WRITERS:
                writers += 1
                if not _takes_an_actor(node):
                    missing.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert writers >= 20, "the scan found too few writers: is SRC right?"
    assert not missing, f"these write history without a required actor: {missing}"


def test_create_user_requires_an_actor() -> None:
    actor_parameter = inspect.signature(create_user).parameters["actor"]
    assert actor_parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert actor_parameter.default is inspect.Parameter.empty
    assert actor_parameter.annotation == "User", "an optional actor lets a write go unattributed"


def events(session: Session, action: AuditAction) -> list[AuditEvent]:
    """The audit events of one action, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.id)
    return list(session.scalars(query))


def test_set_parent_records_the_move_by_its_actor(session: Session) -> None:
    mover = make_user(session, "mover@example.com", role="admin")
    parent, child = make_account(session, "Parent"), make_account(session, "Child")
    set_parent(session, account=child, parent=parent, actor=mover)
    set_parent(session, account=child, parent=parent, actor=mover)  # no change: no event
    (event,) = events(session, AuditAction.ACCOUNT_MOVED)
    assert event.actor_id == mover.id
    assert event.subject_key == str(child.id)
    assert event.details == {"old_parent_id": None, "new_parent_id": parent.id}


def test_a_move_and_its_undo_are_each_recorded_by_whoever_did_them(session: Session) -> None:
    mover = make_user(session, "mover@example.com", role="admin")
    undoer = make_user(session, "undoer@example.com", role="admin")
    parent, child = make_account(session, "Parent"), make_account(session, "Child")
    moved = move_account(session, account=child, parent=parent, actor=mover)
    assert moved.operation_id is not None
    undo_operation(session, operation_id=moved.operation_id, actor=undoer)
    recorded = [
        (e.actor_id, e.details["new_parent_id"]) for e in events(session, AuditAction.ACCOUNT_MOVED)
    ]
    assert recorded == [(mover.id, parent.id), (undoer.id, None)]


def test_a_refresh_that_changes_membership_is_recorded_by_its_actor(session: Session) -> None:
    refresher = make_user(session, "refresher@example.com")
    make_account(session, "Big", tier=1)
    make_account(session, "Small", tier=3)
    segment = create_segment(session, name="Tier one", rule="tier = 1", actor=actor(session))
    refresh_segments(session, actor=refresher)
    refresh_segments(session, actor=refresher)  # nothing changed: nothing recorded
    (event,) = events(session, AuditAction.SEGMENT_REFRESHED)
    assert event.actor_id == refresher.id
    assert event.subject_key == str(segment.id)
    assert event.details == {"entered": 1, "left": 0, "members": 1}
