"""`linkline tasks` names the engagement each task is about; the command line, like the
pages, counts the word "None" as a detail not filled in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.cli_runner import Invoke
from tests.integration.bot.cli.test_cli import DETAILS, _create, _future


def test_the_task_list_names_the_cancelled_engagement(ready: Invoke, tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
        "consent_confirmed_on,consent_confirmed_by\n"
        "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n",
        encoding="utf-8",
    )
    assert ready("experts", "import", str(csv)).exit_code == 0
    assert _create(ready, "--publish", *DETAILS).exit_code == 0
    assert ready("engagements", "invite", "1", "EX-1").exit_code == 0
    assert ready("engagements", "cancel", "1", "--reason", "venue closed").exit_code == 0
    listed = ready("tasks")
    assert listed.exit_code == 0, listed.output
    day = date.fromisoformat(_future(10)[:10]).strftime("%-d %B %Y")
    line = next(row for row in listed.output.splitlines() if "Pay back the costs" in row)
    assert f"Panel, {day} (cancelled)" in line
    assert "None" not in listed.output


def test_none_typed_as_a_detail_is_still_to_fill_in(ready: Invoke) -> None:
    details = list(DETAILS)
    details[details.index("--expenses") + 1] = "None"
    created = _create(ready, *details)
    assert created.exit_code == 0, created.output
    assert "Before publishing, fill in: transport_and_expenses" in created.output
    published = ready("engagements", "publish", "1")
    assert published.exit_code == 1 and "transport_and_expenses" in published.output
