"""Docs, code and comments cite only files in this repository.

Planning notes kept beside the repository while bookwise was built are not shipped with it, so
a reader of a clone could never open them. A decision worth citing is written down in
docs/concepts.md, and cited there.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "tests", "docs", "bench", ".ci", "README.md", "CONVENTIONS.md", "Makefile")
# Spelled in pieces, so that this file does not match itself.
OUTSIDE = re.compile(
    "|".join(
        (
            r"\b" + "SEMAN" + r"TICS\b",
            r"\b" + "PRODUCT" + r"\.md\b",
            r"\b" + "GUIDE" + r"\.md\b",
            r"\.\./" + "shared",
            "shared/" + "research",
            r"\bresearch " + "notes?",
            "reliability " + "anchors",
            "perf-" + "floor" + r"\.md",
        )
    )
)
NAMED_FILE = re.compile(r"`([\w./-]+\.(?:py|md|toml|html|css|js))`")
SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".sh", ".txt", ".html", ".mako", ".yml"}


def scanned_files() -> list[Path]:
    """Every text file of the scanned folders, and the scanned top-level files."""
    found: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return sorted(found)


def test_nothing_cites_files_outside_the_repository() -> None:
    files = scanned_files()
    assert len(files) > 100, "the scan found too few files: is ROOT right?"
    cited = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not cited, "cite the repository's own docs instead:\n" + "\n".join(cited)


def test_every_file_the_docs_name_in_code_exists() -> None:
    """A backticked ``name.py`` (or .md, .toml, …) in a page names a file of the repository."""
    pages = [ROOT / "README.md", ROOT / "CONVENTIONS.md", *sorted((ROOT / "docs").glob("*.md"))]
    tracked = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if ".venv" not in p.parts]
    missing = [
        f"{page.relative_to(ROOT)}: {name}"
        for page in pages
        for name in sorted(set(NAMED_FILE.findall(page.read_text(encoding="utf-8"))))
        if not any(path == name or path.endswith("/" + name) for path in tracked)
    ]
    assert not missing, "these files do not exist (renamed or moved?):\n" + "\n".join(missing)
