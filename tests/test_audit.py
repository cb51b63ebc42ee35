"""Audit actions: one typed enum, used by every writer, each action described.

The writers are found in the source, so a new ``record_event`` call with a bare string, or a
bulk insert spelling an action by hand, fails here instead of drifting from the docs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from bookwise.audit import AuditAction

SRC = Path(__file__).resolve().parents[1] / "src" / "bookwise"
AUDIT_MODULE = SRC / "audit.py"


def _python_files() -> list[Path]:
    return sorted(path for path in SRC.rglob("*.py") if path != AUDIT_MODULE)


def _uses_enum(node: ast.expr) -> bool:
    """True when the expression is ``AuditAction.X`` (or a conditional between two of them)."""
    if isinstance(node, ast.IfExp):
        return _uses_enum(node.body) and _uses_enum(node.orelse)
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "AuditAction"
    )


def test_every_record_event_call_names_an_audit_action_member() -> None:
    calls = 0
    bare: list[str] = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "record_event"):
                continue
            calls += 1
            action = next((k.value for k in node.keywords if k.arg == "action"), None)
            if action is None or not _uses_enum(action):
                bare.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert calls >= 15, "the scan found too few record_event calls: is SRC right?"
    assert not bare, f"record_event called without an AuditAction member at {bare}"


def test_no_module_spells_an_audit_action_as_a_string() -> None:
    values = {action.value for action in AuditAction}
    spelled: list[str] = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in values:
                spelled.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value!r}")
    assert not spelled, f"use AuditAction instead of these strings: {spelled}"


def test_every_action_has_a_description_and_fits_its_column() -> None:
    for action in AuditAction:
        assert action.description.strip().endswith("."), action
        assert len(action.value) <= 40, action  # audit_events.action is String(40)
        subject, _, verb = action.value.partition(".")
        assert subject, action
        assert verb, action
