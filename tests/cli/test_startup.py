"""The CLI starts without what a command does not use (issue 15: start-up time).

Structural checks, never timings: which modules a fresh interpreter has imported after
``import bookwise.cli`` and after running a command (bench/cli_startup.py measures the time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer._click.utils import make_default_short_help

from bookwise.cli import app
from bookwise.cli.app import LAZY_COMMANDS

HEAVY = ("fastapi", "uvicorn", "starlette", "lark", "jinja2", "argon2", "httpx")

# Run in a fresh interpreter, print the top-level packages and bookwise modules imported.
PROBE = """
import json, sys
{setup}
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(setup: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_the_cli_imports_no_service_nor_database_layer() -> None:
    loaded = _modules_after("import bookwise.cli")
    assert not _packages(loaded) & {*HEAVY, "sqlalchemy", "pydantic", "rich"}
    assert {name for name in loaded if name.startswith("bookwise.")} <= {
        "bookwise.cli",
        "bookwise.cli.app",
    }


def test_help_lists_every_command_without_importing_one() -> None:
    setup = (
        "from bookwise.cli import main\n"
        "sys.argv = ['bookwise', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_after(setup)
    assert not _packages(loaded) & {*HEAVY, "sqlalchemy", "pydantic", "rich"}
    assert not [
        name
        for name in loaded
        if name.startswith("bookwise.cli.") and name not in ("bookwise.cli.app",)
    ]


def _modules_of_command(tmp_path: Path, args: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded after ``bookwise ARGS`` ran on an empty
    database (it must succeed)."""
    env = {"BOOKWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}"}
    subprocess.run(
        [sys.executable, "-m", "bookwise", "init"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    setup = (
        "import contextlib, io\n"
        "from bookwise.cli import main\n"
        f"sys.argv = ['bookwise', *{args!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit as exit:\n        assert not exit.code"
    )
    return _modules_after(setup, env)


def test_csms_loads_neither_the_orm_nor_the_models_nor_the_web_server(tmp_path: Path) -> None:
    # bookwise csms reads four counter tables through SQLAlchemy Core: the ORM, the models
    # (and the PostgreSQL dialect their partial indexes load), the write path, the rule
    # grammar and the web server are each tens of milliseconds it has no use for.
    loaded = _modules_of_command(tmp_path, ["csms"])
    assert "bookwise.assignments.overview" in loaded  # it did run
    assert "rich.table" in loaded  # the table people read
    assert not _packages(loaded) & {*HEAVY, "pydantic_settings"}
    unused = {
        "sqlalchemy.orm",
        "sqlalchemy.dialects.postgresql",
        "bookwise.models",
        "bookwise.assignments.service",  # the write path
        "bookwise.assignments.schemas",
        "bookwise.segments.selection",
    }
    assert not unused & loaded


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_csms_for_tools_prints_without_rich(tmp_path: Path, fmt: str) -> None:
    loaded = _modules_of_command(tmp_path, ["csms", "--format", fmt])
    assert "bookwise.assignments.overview" in loaded
    assert "rich" not in _packages(loaded)


@pytest.mark.parametrize("name", list(LAZY_COMMANDS))
def test_each_summary_is_the_first_paragraph_of_its_command_help(name: str) -> None:
    # bookwise --help shows the registered summary; the command's own help must say the same.
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    summary = LAZY_COMMANDS[name].summary
    for limit in (45, 60, 80, 200):
        assert make_default_short_help(summary, limit) == command.get_short_help_str(limit), (
            f"update the summary of {name!r} in src/bookwise/cli/__init__.py"
        )


def test_the_help_lists_the_commands_in_their_order() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bookwise", "--help"], capture_output=True, text=True, check=True
    )
    listed = [
        line.split()[0]
        for line in done.stdout.split("Commands:")[1].splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    ]
    assert listed == list(LAZY_COMMANDS)


def test_a_mistyped_command_is_still_suggested() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bookwise", "acounts"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "No such command 'acounts'. Did you mean 'accounts'" in done.stderr


def test_the_sign_in_service_hashes_nothing_when_imported() -> None:
    # `bookwise tokens list` and `users list` import it; a password hash costs ~0.3 s.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bookwise.auth.service as auth; print(auth._DUMMY_HASH)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "None"


def test_the_web_app_makes_the_dummy_hash_when_it_starts(tmp_path: Path) -> None:
    # So that the first sign-in of an unknown email is not slower than a wrong password.
    probe = (
        "import bookwise.auth.service as auth\n"
        "from bookwise.http.app import create_app\n"
        "create_app()\n"
        "print(auth._DUMMY_HASH is not None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BOOKWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )
    assert done.stdout.strip() == "True"
