"""The layer picture (import-linter contracts in pyproject.toml) holds, even under bare pytest."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


SRC = ROOT / "src" / "bookwise"
# The entry point sits above every layer; the migrations are Alembic scripts, not a package.
UNLAYERED = {"__main__", "migrations"}


def contracts() -> list[dict[str, Any]]:
    """The import-linter contracts of pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return list(config["contracts"])


def contract(name_start: str) -> dict[str, Any]:
    """The contract whose name starts with ``name_start``."""
    (found,) = [c for c in contracts() if c["name"].startswith(name_start)]
    return found


def layer_modules(layers: list[str]) -> set[str]:
    """Every module a layers contract names (``a | b``, ``a : b`` and ``(optional)`` undone)."""
    names = set()
    for layer in layers:
        for name in re.split(r"[|:]", layer):
            names.add(name.strip().strip("()"))
    return names


def test_every_top_level_module_is_a_base_module_or_a_layer() -> None:
    present = {
        path.stem if path.suffix == ".py" else path.name
        for path in SRC.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    base = {name.removeprefix("bookwise.") for name in contract("Shared base")["source_modules"]}
    layered = {n.removeprefix("bookwise.") for n in layer_modules(contract("Domains")["layers"])}
    unplaced = present - base - layered - UNLAYERED
    assert not unplaced, (
        f"place {sorted(unplaced)} in pyproject.toml: a layer of 'Domains import only downward', "
        "or a shared base module (source_modules of 'Shared base modules import no domain')"
    )


def test_base_modules_are_forbidden_every_domain_by_wildcard() -> None:
    assert contract("Shared base")["forbidden_modules"] == ["bookwise.*"]


def test_every_assignments_module_has_its_layer() -> None:
    inner = contract("Inside assignments")
    assert inner["containers"] == ["bookwise.assignments"]
    present = {p.stem for p in (SRC / "assignments").glob("*.py") if p.stem != "__init__"}
    unplaced = present - layer_modules(inner["layers"])
    assert not unplaced, f"give {sorted(unplaced)} a layer in 'Inside assignments' (pyproject.toml)"


def test_the_layers_are_declared() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    kinds = {contract["type"] for contract in config["contracts"]}
    assert config["root_package"] == "bookwise"
    assert {"layers", "forbidden"} <= kinds


def test_import_linter_contracts_are_kept() -> None:
    assert LINT_IMPORTS.exists(), (
        f"{LINT_IMPORTS} is missing: install the dev extras (pip install -e '.[dev]')"
    )
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"import-linter found broken contracts:\n{run.stdout}{run.stderr}"
