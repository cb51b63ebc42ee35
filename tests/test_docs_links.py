"""Relative links in README.md, CONVENTIONS.md and docs/*.md point at files and headings."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "CONVENTIONS.md", *(ROOT / "docs").glob("*.md")])

FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, …
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)

by_name = pytest.mark.parametrize(
    "document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix()
)


def local_links(markdown: str) -> list[str]:
    """Targets of links into this repository, ``#fragment`` ones included (code ignored)."""
    prose = INLINE_CODE.sub("", FENCED_BLOCK.sub("", markdown))
    targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)
    return [target for target in targets if not EXTERNAL.match(target)]


def anchors(markdown: str) -> set[str]:
    """The fragment ids GitHub gives the headings of a Markdown document."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCED_BLOCK.sub("", markdown)):
        text = heading.replace("`", "").strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def test_the_documents_exist() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in DOCUMENTS}
    assert {
        "README.md",
        "docs/index.md",
        "docs/getting-started.md",
        "docs/concepts.md",
        "docs/deploying.md",
    } <= names


@by_name
def test_relative_links_resolve(document: Path) -> None:
    broken = []
    for target in local_links(document.read_text(encoding="utf-8")):
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if path and not (document.parent / path).exists():
            broken.append(target)
    assert broken == [], f"{document.relative_to(ROOT)} links to missing files: {broken}"


@by_name
def test_fragments_name_headings(document: Path) -> None:
    broken = []
    for target in local_links(document.read_text(encoding="utf-8")):
        path, _, fragment = target.partition("#")
        linked = document.parent / unquote(path) if path else document
        is_markdown = linked.suffix == ".md" and linked.is_file()
        if fragment and is_markdown and fragment not in anchors(linked.read_text("utf-8")):
            broken.append(target)
    assert broken == [], f"{document.relative_to(ROOT)} links to missing headings: {broken}"


def test_the_link_finder_finds_links() -> None:
    text = (
        "See [concepts](docs/concepts.md#undo), ![logo](img/a.png), [site](https://x.org),\n"
        "[top](#top), `[not](a/link.md)` and\n```\n[nor](this.md)\n```\n[ref]: docs/cli.md\n"
    )
    assert local_links(text) == ["docs/concepts.md#undo", "img/a.png", "#top", "docs/cli.md"]


def test_anchors_follow_githubs_slugs() -> None:
    text = "# Getting started\n## Listings: the screen\n## `--who` and co\n# Getting started\n"
    assert anchors(text) == {
        "getting-started",
        "listings-the-screen",
        "--who-and-co",
        "getting-started-1",
    }
