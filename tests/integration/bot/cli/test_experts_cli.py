"""`linkline experts import` and `export`, run as a link worker would, in-process.

`ready` (tests/cli_runner.py) is the real CLI on a fresh SQLite file, set up through
DATABASE_URL, LINKLINE_SECRET_KEY and LINKLINE_DATA_DIR, after `db upgrade` and
`staff create "Sam Taylor" --email sam@example.org`.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

HEADER = ",".join(["ref", "preferred_name", "link_worker", "preferred_channel", "phone",
                   "consent_sms", "consent_confirmed_on", "consent_confirmed_by"])  # fmt: skip
ANA = "A1,Ana Morrison,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org"
BEN = "B2,Ben Adeyemi,sam@example.org,sms,07123 456790,,,"
BAD = "C3,Cat Brown,sam@example.org,sms,12345,,,"

Invoke = Callable[..., Result]


def write(tmp_path: Path, *lines: str, name: str = "experts.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_importing_a_good_file_adds_the_experts(ready: Invoke, tmp_path: Path) -> None:
    result = ready("experts", "import", str(write(tmp_path, HEADER, ANA, BEN)))
    assert result.exit_code == 0, result.output
    assert "Imported 2 experts." in result.stdout
    assert "No confirmed consent yet for 1 expert" in result.stdout
    listed = ready("experts", "list").stdout
    assert "Ana Morrison" in listed and "Ben Adeyemi" in listed


def test_a_file_with_one_bad_row_adds_nobody_and_points_at_the_cell(
    ready: Invoke, tmp_path: Path
) -> None:
    result = ready("experts", "import", str(write(tmp_path, HEADER, ANA, BEN, BAD)))
    assert result.exit_code == 1
    assert "Nothing was imported" in result.stderr
    table = result.stderr.split("Nothing was imported")[0]
    assert "line" in table and "column" in table and "problem" in table
    assert "│ 4 " in table and "phone" in table
    assert "12345" not in result.output  # the contact detail itself is never echoed
    listed = ready("experts", "list").stdout
    assert "Ana Morrison" not in listed and "Ben Adeyemi" not in listed


def test_a_row_naming_an_unknown_link_worker_adds_nobody(ready: Invoke, tmp_path: Path) -> None:
    stranger = BEN.replace("sam@example.org", "kim@example.org")
    result = ready("experts", "import", str(write(tmp_path, HEADER, ANA, stranger)))
    assert result.exit_code == 1
    assert "link_worker" in result.stderr and "│ 3 " in result.stderr
    assert "Ana Morrison" not in ready("experts", "list").stdout


def test_a_missing_file_gives_a_one_line_error(ready: Invoke, tmp_path: Path) -> None:
    result = ready("experts", "import", str(tmp_path / "nowhere.csv"))
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "there is no file" in result.stderr


def test_a_file_that_is_not_utf8_says_how_to_save_it(ready: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(f"{HEADER}\n{ANA.replace('Ana', 'Ana José')}\n".encode("latin-1"))
    result = ready("experts", "import", str(path))
    assert result.exit_code == 1
    assert "not UTF-8" in result.stderr and "CSV UTF-8" in result.stderr


def test_export_writes_a_file_only_its_owner_can_read(ready: Invoke, tmp_path: Path) -> None:
    ready("experts", "import", str(write(tmp_path, HEADER, ANA)))
    target = tmp_path / "out.csv"
    result = ready("experts", "export", str(target))
    assert result.exit_code == 0, result.output
    assert "Exported 1 expert to" in result.stdout
    assert "keep it safe and delete it when done" in result.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text(encoding="utf-8-sig")
    assert text.startswith("ref,preferred_name,link_worker,")
    assert "Ana Morrison" in text


def test_export_will_not_replace_a_file_without_force(ready: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("keep me\n")
    target.chmod(0o644)
    refused = ready("experts", "export", str(target))
    assert refused.exit_code == 1
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == "keep me\n"
    forced = ready("experts", "export", str(target), "--force")
    assert forced.exit_code == 0, forced.output
    assert target.read_text(encoding="utf-8-sig").startswith("ref,")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_exported_file_imports_into_another_database(
    ready: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready("experts", "import", str(write(tmp_path, HEADER, ANA, BEN)))
    target = tmp_path / "out.csv"
    ready("experts", "export", str(target))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    ready("db", "upgrade")
    ready("staff", "create", "Sam Taylor", "--email", "sam@example.org")
    result = ready("experts", "import", str(target))
    assert result.exit_code == 0, result.output
    assert "Imported 2 experts." in result.stdout
