"""Sections of docs/ generated from the code: ``python -m bookwise.docsections``.

Each section sits between two HTML comments in its page, ``<!-- BEGIN GENERATED: name -->`` and
``<!-- END GENERATED: name -->``, and is rewritten from the registry it documents: the audit
actions (``bookwise.audit.AuditAction``), the settings (``bookwise.config``) and the CLI, API
and web parity table (``bookwise.parity``), the counting modes of the reports
(``bookwise.reports.counting``).
``tests/test_docs_generated.py`` fails when a section is stale. Run from the repository root.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bookwise.audit import audit_actions_markdown
from bookwise.config import settings_markdown
from bookwise.parity import parity_markdown
from bookwise.reports.counting import counting_markdown

REGENERATE = "python -m bookwise.docsections"

SECTIONS: dict[str, tuple[str, Callable[[], str]]] = {
    "audit-actions": ("docs/concepts.md", audit_actions_markdown),
    "settings": ("docs/deploying.md", settings_markdown),
    "parity": ("docs/api.md", parity_markdown),
    "counting-modes": ("docs/concepts.md", counting_markdown),
}


def begin_marker(name: str) -> str:
    """The comment that opens a generated section (the line after it is generated)."""
    return f"<!-- BEGIN GENERATED: {name} (edit the code, then run {REGENERATE}) -->"


def end_marker(name: str) -> str:
    """The comment that closes a generated section."""
    return f"<!-- END GENERATED: {name} -->"


def with_section(text: str, name: str, body: str) -> str:
    """``text`` with section ``name`` replaced by ``body``; ValueError if its markers are gone."""
    begin, end = begin_marker(name), end_marker(name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the markers of generated section {name!r} are missing: {begin}")
    return f"{text[: start + len(begin)]}\n\n{body}\n{text[stop:]}"


def regenerate(root: Path) -> list[str]:
    """Rewrite every generated section under ``root``; the pages that changed."""
    changed: list[str] = []
    for name, (page, render) in SECTIONS.items():
        path = root / page
        text = path.read_text(encoding="utf-8")
        updated = with_section(text, name, render())
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(f"{page} ({name})")
    return changed


def main() -> None:
    """Regenerate the sections of the docs in the current directory's ``docs/``."""
    changed = regenerate(Path.cwd())
    sys.stdout.write("".join(f"rewrote {item}\n" for item in changed) or "up to date\n")


if __name__ == "__main__":
    main()
