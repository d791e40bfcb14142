"""Run the real `linkline` command in-process against a SQLite file (the `cli` and `ready`
fixtures, registered by tests/conftest.py so every level can use them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

Invoke = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """The command on an empty database file (`db upgrade` not yet run)."""
    from bot.cli import common
    from bot.cli.main import app
    from tests.conftest import TEST_KEY

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LINKLINE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("LINKLINE_DATA_DIR", str(tmp_path / "var"))
    # A wide terminal, so table cells and lines are not wrapped. The consoles were made at
    # import, before this variable, so they are told too (under pytest-xdist the import
    # happens in a worker that never saw a terminal).
    monkeypatch.setenv("COLUMNS", "240")
    monkeypatch.setattr(common.console, "width", 240)
    monkeypatch.setattr(common.err_console, "width", 240)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def ready(cli: Invoke, tmp_path: Path, sqlite_template: Path) -> Invoke:
    """A migrated database with one link worker. The file is a copy of the template the
    process migrated once, not a fresh `db upgrade`: tests about that command use `cli`."""
    from tests.conftest import fresh_sqlite_file

    fresh_sqlite_file(sqlite_template, tmp_path / "cli.db")
    assert cli("staff", "create", "Sam Taylor", "--email", "sam@example.org").exit_code == 0
    return cli
