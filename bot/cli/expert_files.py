"""Reading and writing the experts' CSV files for `linkline experts import` and `export`.

The file work is kept apart from the commands: a private file is made owner-only before a
byte is written, and problems are shown by line and column, never with a contact detail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from bot.cli.common import err_console, fail
from bot.services.experts.csv_files import RowError

# 10,000 generous rows; anything far bigger is the wrong file, so refuse before reading it.
_MAX_BYTES = 20 * 1024 * 1024


def read_text(file: Path) -> str:
    try:
        if file.stat().st_size > _MAX_BYTES:
            fail(f"{named(file)} is over 20 MB: is it the right file? Split it into smaller files")
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"there is no file {named(file)}")
    except IsADirectoryError:
        fail(f"{named(file)} is a folder, not a CSV file")
    except UnicodeDecodeError:
        fail(f"{named(file)} is not UTF-8 text: in your spreadsheet, save it as 'CSV UTF-8'")
    except OSError as exc:
        fail(f"cannot read {named(file)}: {exc.strerror}")


def write_private(file: Path, text: str, *, force: bool) -> None:
    """Owner-only (0600) before the first byte is written, even when replacing a file."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(file, flags, 0o600)
    except FileExistsError:
        fail(f"{named(file)} already exists: choose another name, or add --force to replace it")
    except OSError as exc:
        fail(f"cannot write {named(file)}: {exc.strerror}")
    os.fchmod(descriptor, 0o600)
    # The byte-order mark lets spreadsheets see UTF-8, so accented names survive the round trip.
    with os.fdopen(descriptor, "w", encoding="utf-8-sig", newline="") as handle:
        handle.write(text)


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int], None]]:
    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("Importing experts", total=total)
        yield lambda done: bar.update(task, completed=done)


def show_problems(file: Path, problems: list[RowError]) -> None:
    """Line and column only: contact details are never echoed back to the screen."""
    table = Table("line", "column", "problem")
    for problem in sorted(problems, key=lambda p: p.row):
        table.add_row(str(problem.row), escape(problem.column), escape(problem.message))
    err_console.print(table)
    err_console.print(
        f"[bold red]Nothing was imported.[/] Fix {len(problems)} problem(s) in {named(file)} "
        "and run the import again.",
        highlight=False,
    )


def named(file: Path) -> str:
    """A path as text: brackets in a folder name are not formatting."""
    return escape(str(file))
