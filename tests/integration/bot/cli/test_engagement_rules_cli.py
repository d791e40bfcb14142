"""The command line gets the same answer as the pages to "may this be cancelled?"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.cli_runner import Invoke
from tests.integration.bot.cli.test_cli import DETAILS


def test_a_finished_engagement_cannot_be_cancelled_on_the_command_line(
    ready: Invoke, tmp_path: Path
) -> None:
    created = ready(
        "engagements", "create", "--title", "Panel", "--start", "2030-01-22 14:00",
        "--end", "2030-01-22 16:00", "--lead", "sam@example.org", "--publish", *DETAILS,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("UPDATE engagement SET status = 'completed' WHERE id = 1")
    result = ready("engagements", "cancel", "1", "--reason", "too late")
    assert result.exit_code == 1
    assert "has already happened, so it cannot be cancelled" in result.output
    assert "Traceback" not in result.output
    assert "Finished" in ready("engagements", "list").output
