"""`linkline support-lines`: the crisis and support lines offered after a worrying reply."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table

from bot.cli.common import console, fail, load_settings
from scheduling.clock import local_today
from scheduling.rules.support_lines import SupportLinesError, load_support_lines


def show_support_lines() -> None:
    """Show the crisis and support lines offered after a worrying reply: open now, last checked.

    The lines live in templates/support_lines.toml; one checked more than 12 months ago is
    flagged, because a wrong number in a crisis is real harm.
    """
    try:
        lines = load_support_lines()
    except SupportLinesError as exc:
        fail(str(exc), 2)
    now = datetime.now(UTC)
    today = local_today(now, load_settings().default_time_zone)
    table = Table("line", "number", "hours", "open now", "last checked")
    stale = 0
    for line in lines:
        old = line.is_stale(today)
        stale += old
        table.add_row(
            line.name,
            line.number,
            line.hours_text,
            "yes" if line.is_open(now) else "no",
            f"{line.last_checked.isoformat()}{'  CHECK AGAIN' if old else ''}",
        )
    console.print(table)
    if stale:
        console.print(
            f"{stale} line(s) were last checked over 12 months ago: check them with the "
            "service and update templates/support_lines.toml.",
            highlight=False,
        )
