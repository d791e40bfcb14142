"""The data folder, key and database are private to the account that runs Linkline, and a
start-up that finds them otherwise says, in one line, which command puts it right (L-7);
so does a public address Twilio could never sign for (L-6).

Tests run as root here, so they check the mode bits Linkline sets and reads, not access."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.bootstrap import build_app
from bot.settings import Settings
from store.errors import CannotStart
from tests.cli_runner import Invoke


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _first_run_settings(folder: Path) -> Settings:
    """The embedded default: no key configured, the database inside the data folder."""
    return Settings(_env_file=None, data_dir=folder)  # type: ignore[call-arg]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask an operator could have: modes must not depend on it."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


@pytest.fixture
def own_files(cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`linkline db upgrade` run once with no key set: the key file and database are made."""
    monkeypatch.delenv("LINKLINE_SECRET_KEY")
    monkeypatch.delenv("DATABASE_URL")
    assert cli("db", "upgrade").exit_code == 0
    return tmp_path / "var"


def _one_error_line(result_output: str) -> str:
    assert "Traceback" not in result_output
    lines = [line for line in result_output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result_output
    return lines[0]


async def test_a_first_start_makes_everything_private_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    folder = tmp_path / "var"
    app = await build_app(_first_run_settings(folder), upgrade=True)
    try:
        async with app.sessions.begin() as session:  # a write: SQLite opens -wal and -shm
            await session.execute(text("UPDATE linkline_meta SET value = value"))
        database = folder / "linkline.db"
        assert _mode(folder) == 0o700
        assert _mode(folder / "secret.key") == 0o600
        assert _mode(database) == 0o600
        for companion in ("-wal", "-shm"):
            assert _mode(Path(f"{database}{companion}")) == 0o600
    finally:
        await app.aclose()


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604], ids=oct)
def test_a_key_file_others_can_read_is_refused_with_the_chmod_to_run(
    own_files: Path, cli: Invoke, loose: int
) -> None:
    key = own_files / "secret.key"
    key.chmod(loose)
    result = cli("engagements", "list")
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert f"the key file {key} can be read by other accounts" in line
    assert f"`chmod 600 {key}`" in line
    assert _mode(key) == loose  # refused, not quietly fixed: it may have been copied
    key.chmod(0o600)
    assert cli("engagements", "list").exit_code == 0


@pytest.mark.parametrize("loose", [0o755, 0o750, 0o701], ids=oct)
def test_a_data_folder_others_can_open_is_refused_with_the_chmod_to_run(
    own_files: Path, cli: Invoke, loose: int
) -> None:
    own_files.chmod(loose)
    result = cli("engagements", "list")
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert f"the data folder {own_files} can be opened by other accounts" in line
    assert f"`chmod 700 {own_files}`" in line
    assert _mode(own_files) == loose  # the folder may not be Linkline's alone: asked, not done
    own_files.chmod(0o700)
    assert cli("engagements", "list").exit_code == 0


def test_a_folder_made_in_advance_by_an_operator_is_refused_until_private(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "srv"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setenv("LINKLINE_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL")
    result = cli("db", "upgrade")
    assert result.exit_code == 1 and f"`chmod 700 {folder}`" in result.output
    assert list(folder.iterdir()) == []  # no key, no database written into an open folder


async def test_a_readable_database_and_its_wal_files_are_tightened_with_a_note(
    tmp_path: Path,
) -> None:
    settings = _first_run_settings(tmp_path / "var")
    first = await build_app(settings, upgrade=True)  # another process, still running
    try:
        async with first.sessions.begin() as session:
            await session.execute(text("UPDATE linkline_meta SET value = value"))
        database = tmp_path / "var" / "linkline.db"
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        for path in files:
            path.chmod(0o644)  # say, restored from a backup by another tool
        second = await build_app(settings)
        await second.aclose()
        assert [_mode(path) for path in files] == [0o600, 0o600, 0o600]
        notes = [note for note in second.notices if "could be read by other accounts" in note]
        assert len(notes) == 3 and str(database) in notes[0] and "now 600" in notes[0]
    finally:
        await first.aclose()


def test_a_database_this_account_cannot_tighten_is_refused_with_the_command(
    own_files: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = own_files / "linkline.db"
    database.chmod(0o644)

    def not_owner(self: Path, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", not_owner)
    result = cli("engagements", "list")
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert f"`chmod 600 {database}`" in line and "operation not permitted" in line


def test_an_unwritable_data_folder_is_one_clear_line_not_a_traceback(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", denied)
    result = cli("db", "upgrade")
    assert result.exit_code == 1
    line = _one_error_line(result.output)
    assert f"cannot create the data folder {tmp_path / 'var'} (permission denied)" in line
    assert "LINKLINE_DATA_DIR" in line


def test_an_existing_folder_this_account_cannot_write_is_one_clear_line(
    own_files: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    result = cli("engagements", "list")
    assert result.exit_code == 1
    assert f"the data folder {own_files} is not writable by this account" in _one_error_line(
        result.output
    )


def test_a_data_folder_that_is_a_file_is_one_clear_line(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("LINKLINE_DATA_DIR", str(tmp_path / "notes.txt"))
    result = cli("db", "upgrade")
    assert result.exit_code == 1
    assert "is a file, or inside one, not a folder" in _one_error_line(result.output)


async def test_start_up_refusals_are_cannot_start_errors(tmp_path: Path) -> None:
    """The staff pages' and CLI's one error path catches these as refusals people read."""
    folder = tmp_path / "var"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(CannotStart, match="chmod 700"):
        await build_app(_first_run_settings(folder), upgrade=True)


def test_a_public_address_without_https_stops_every_command_with_one_line(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", "linkline.example.org")
    result = cli("db", "upgrade")
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert line.startswith("Error: LINKLINE_PUBLIC_URL must start with https://")
    assert not (tmp_path / "var").exists()  # refused before anything was made
    monkeypatch.setenv("LINKLINE_PUBLIC_URL", "https://linkline.example.org")
    assert cli("db", "upgrade").exit_code == 0
