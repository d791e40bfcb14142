"""`linkline --help` lists the commands without importing them: its lines must stay the
commands' own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli.main import COMMANDS, Entry, load


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_each_listed_line_is_the_commands_own_help(entry: Entry) -> None:
    command = load(entry)
    assert command.help is not None
    assert command.help.split("\n\n")[0].replace("\n", " ").strip() == entry.summary


def test_the_help_imports_no_command() -> None:
    code = (
        "import sys, bot.cli.main; "
        "print(sorted(m for m in sys.modules if m.startswith(('bot.', 'sqlalchemy', 'fastapi'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bot.cli', 'bot.cli.main']"
