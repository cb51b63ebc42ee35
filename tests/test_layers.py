"""The layer picture (import-linter contracts in pyproject.toml) holds, even under bare pytest."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


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
