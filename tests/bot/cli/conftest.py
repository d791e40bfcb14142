"""Run the real `linkline` command in-process against a SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli.main import app
from tests.conftest import TEST_KEY

Invoke = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LINKLINE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("LINKLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "240")  # a wide terminal, so table cells are not wrapped
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def ready(cli: Invoke) -> Invoke:
    """A migrated database with one link worker."""
    assert cli("db", "upgrade").exit_code == 0
    assert cli("staff", "create", "Sam Taylor", "--email", "sam@example.org").exit_code == 0
    return cli
