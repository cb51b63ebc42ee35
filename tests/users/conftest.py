"""User tests use the CLI fixture too."""

from tests.cli.conftest import cli  # noqa: F401
