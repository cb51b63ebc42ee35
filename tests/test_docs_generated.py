"""The docs sections generated from the code (audit actions, settings) are current and whole."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bookwise.assignments.plan import DEFAULT_POLICY_KEY
from bookwise.audit import AuditAction
from bookwise.config import DATABASE_SETTINGS, environment_settings, settings_registry
from bookwise.docsections import REGENERATE, SECTIONS, begin_marker, end_marker, with_section

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "bookwise"


def section(name: str) -> str:
    """The text of generated section ``name`` as the page holds it now."""
    page = (ROOT / SECTIONS[name][0]).read_text(encoding="utf-8")
    begin, end = begin_marker(name), end_marker(name)
    assert begin in page, f"{SECTIONS[name][0]} lost the marker {begin}"
    assert end in page, f"{SECTIONS[name][0]} lost the marker {end}"
    return page.split(begin, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_generated_section_is_current(name: str) -> None:
    page, render = SECTIONS[name]
    text = (ROOT / page).read_text(encoding="utf-8")
    assert with_section(text, name, render()) == text, (
        f"the {name!r} section of {page} is stale; regenerate it with: {REGENERATE}"
    )


def test_the_docs_list_every_audit_action_and_no_other() -> None:
    listed = re.findall(r"^- `([a-z_]+\.[a-z_]+)`", section("audit-actions"), re.MULTILINE)
    assert sorted(listed) == sorted(action.value for action in AuditAction)


def test_the_docs_list_every_setting_with_a_description() -> None:
    text = section("settings")
    for setting in settings_registry():
        assert len(setting.description) > 20, f"{setting.key} has no real description"
        assert f"| `{setting.key}` |" in text, f"{setting.key} is not in docs/deploying.md"


def test_every_bookwise_variable_named_in_the_code_is_a_registered_setting() -> None:
    registered = {setting.key for setting in environment_settings()}
    named: set[str] = set()
    for path in SRC.rglob("*.py"):
        named |= set(re.findall(r"\bBOOKWISE_[A-Z_]+[A-Z]\b", path.read_text(encoding="utf-8")))
    assert named, "the scan found no BOOKWISE_ variable at all: is SRC right?"
    assert named <= registered, f"not in the settings registry: {sorted(named - registered)}"


# cli/output.py reads COLUMNS: the terminal's width is the terminal's setting, not bookwise's.
ENVIRONMENT_READERS = {"config.py", "cli/output.py"}


def test_only_config_reads_the_environment() -> None:
    readers = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).as_posix() in ENVIRONMENT_READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
                readers.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not readers, f"read settings through bookwise.config, not os.environ: {readers}"


def test_every_database_setting_key_is_registered() -> None:
    assert {setting.key for setting in DATABASE_SETTINGS} == {DEFAULT_POLICY_KEY}
