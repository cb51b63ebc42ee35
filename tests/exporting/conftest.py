"""Fixtures for the export tests: the CLI, and the migrated template database."""

import pytest

from tests.cli.conftest import cli

__all__ = ["cli", "template_database"]


@pytest.fixture
def template_database(_template: str) -> str:
    """The freshly migrated template: a SQLite file path, or the PostgreSQL URL."""
    return _template
