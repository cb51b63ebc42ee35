"""The dependency locks pin every dependency that pyproject.toml names, with hashes.

``make run`` installs from ``requirements/runtime.txt`` and ``make test`` (so CI) from
``requirements/dev.txt``, with ``pip install --require-hashes``; ``make lock`` writes both
from pyproject.toml (docs/deploying.md, "Upgrading dependencies"). pip itself refuses a lock
that misses a transitive dependency or a hash when it installs; these tests catch what pip
would let through: a dependency of pyproject.toml pinned at a version its specifier excludes,
a lock that names an index or a local file, and two locks that disagree.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
HASH = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    """One locked package: its canonical name, its exact version, and its allowed hashes."""

    name: str
    version: str
    hashes: tuple[str, ...]


def logical_lines(text: str) -> list[str]:
    """The lock's lines with their ``\\`` continuations joined, comments and blanks dropped."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        lines.append((current + line).strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def parse_lock(text: str) -> tuple[dict[str, Pin], list[str]]:
    """The pins of a lock by canonical name, and what is wrong with its lines.

    Every line must be ``name==version`` (a marker may follow) with at least one sha256 hash,
    and nothing else: no option (an index, ``--find-links``, ``-e``, ``-r``) and no direct URL,
    so that every package comes from the index pip is configured with, checked by its hash.
    """
    pins: dict[str, Pin] = {}
    problems: list[str] = []
    for line in logical_lines(text):
        if line.startswith("-"):
            problems.append(f"an option in the lock: {line!r} (a lock names packages only)")
            continue
        requirement_text, *hash_texts = line.split(" --hash=")
        try:
            requirement = Requirement(requirement_text.strip())
        except InvalidRequirement as error:
            problems.append(f"not a requirement: {line!r} ({error})")
            continue
        name = canonicalize_name(requirement.name)
        if requirement.url:
            problems.append(f"{name} comes from a URL, not the index: {requirement.url}")
            continue
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            problems.append(f"{name} is not pinned to one version: {requirement.specifier}")
            continue
        hashes = tuple(text.strip() for text in hash_texts)
        bad = [text for text in hashes if not HASH.fullmatch(text)]
        if bad or not hashes:
            problems.append(f"{name} has no sha256 hash (or a malformed one): {line!r}")
            continue
        if name in pins:
            problems.append(f"{name} is pinned twice")
        pins[name] = Pin(name=name, version=specifiers[0].version, hashes=hashes)
    return pins, problems


def unmet(requirements: list[Requirement], pins: dict[str, Pin]) -> list[str]:
    """What of ``requirements`` (pyproject.toml's) the pins do not satisfy."""
    problems = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        pin = pins.get(name)
        if pin is None:
            problems.append(f"{requirement} is in pyproject.toml but not in the lock")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"the lock pins {name}=={pin.version}; pyproject.toml: {requirement}")
    return problems


def pyproject_requirements() -> tuple[list[Requirement], list[Requirement]]:
    """pyproject.toml's runtime dependencies and its ``dev`` extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(text) for text in project["dependencies"]]
    dev = [Requirement(text) for text in project["optional-dependencies"]["dev"]]
    return runtime, dev


def read_lock(path: Path) -> dict[str, Pin]:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make lock`"
    pins, problems = parse_lock(path.read_text(encoding="utf-8"))
    assert problems == [], f"{path.relative_to(ROOT)}: " + "; ".join(problems)
    return pins


def test_the_runtime_lock_pins_every_runtime_dependency_with_a_hash() -> None:
    runtime, _ = pyproject_requirements()
    assert unmet(runtime, read_lock(RUNTIME_LOCK)) == [], "run `make lock`"


def test_the_dev_lock_pins_every_runtime_and_dev_dependency_with_a_hash() -> None:
    runtime, dev = pyproject_requirements()
    assert unmet(runtime + dev, read_lock(DEV_LOCK)) == [], "run `make lock`"


def test_the_runtime_lock_is_the_dev_lock_without_the_dev_tools() -> None:
    """``make run`` and ``make test`` run the same versions of what they share.

    (``make lock`` resolves the dev lock first and the runtime lock within its pins.)
    """
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    differ = {
        name: (pin.version, dev[name].version if name in dev else None)
        for name, pin in runtime.items()
        if name not in dev or dev[name] != pin
    }
    assert differ == {}, "runtime pins missing from the dev lock or pinned otherwise there"
    assert {"pytest", "mypy", "ruff", "uv"}.isdisjoint(runtime), "a dev tool is in the runtime lock"


@pytest.mark.parametrize("path", [RUNTIME_LOCK, DEV_LOCK], ids=["runtime", "dev"])
def test_the_locks_are_written_by_make_lock(path: Path) -> None:
    """A hand-edited lock drifts from what ``make lock`` resolves; its header says what to run."""
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make lock`"
    assert "#    make lock" in path.read_text(encoding="utf-8").splitlines()[1]


# --- the checks have teeth ------------------------------------------------------------------

GOOD_HASH = "--hash=sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("lock", "problem"),
    [
        ("alembic>=1.14 " + GOOD_HASH, "not pinned to one version"),
        ("alembic==1.* " + GOOD_HASH, "not pinned to one version"),
        ("alembic==1.20.1", "no sha256 hash"),
        ("alembic==1.20.1 --hash=md5:abc", "no sha256 hash"),
        ("--extra-index-url file:///opt/pypi/simple", "an option in the lock"),
        ("--find-links /opt/wheels", "an option in the lock"),
        ("-e .", "an option in the lock"),
        ("alembic @ file:///opt/wheels/alembic-1.20.1-py3-none-any.whl", "comes from a URL"),
        (f"alembic==1.20.1 \\\n    {GOOD_HASH}\nalembic==1.20.1 {GOOD_HASH}", "pinned twice"),
    ],
)
def test_parse_lock_refuses_what_is_not_a_pinned_hashed_index_package(
    lock: str, problem: str
) -> None:
    _, problems = parse_lock(lock)
    assert len(problems) == 1
    assert problem in problems[0]


def test_parse_lock_reads_uv_output() -> None:
    lock = (
        "# This file was autogenerated by uv via the following command:\n"
        "#    make lock\n"
        "alembic==1.20.1 \\\n"
        f"    {GOOD_HASH} \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "    # via bookwise (pyproject.toml)\n"
        f"colorama==0.4.6 ; sys_platform == 'win32' \\\n    {GOOD_HASH}\n"
        "    # via click\n"
    )
    pins, problems = parse_lock(lock)
    assert problems == []
    assert pins["alembic"] == Pin("alembic", "1.20.1", ("sha256:" + "a" * 64, "sha256:" + "b" * 64))
    assert pins["colorama"].version == "0.4.6"


@pytest.mark.parametrize(
    ("requirement", "problem"),
    [
        ("sqlalchemy>=2.1", "not in the lock"),
        ("alembic>=1.21", "pyproject.toml: alembic>=1.21"),
        ("ruff>=0.8,<0.18", None),
        ("Alembic_Extra>=1 ; python_version < '3'", None),
    ],
)
def test_unmet_finds_a_missing_or_unsatisfying_pin(requirement: str, problem: str | None) -> None:
    pins = {
        "alembic": Pin("alembic", "1.20.1", ("sha256:" + "a" * 64,)),
        "ruff": Pin("ruff", "0.15.2", ("sha256:" + "a" * 64,)),
    }
    problems = unmet([Requirement(requirement)], pins)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problem in problems[0]
