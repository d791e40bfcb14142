"""`linkline tasks` names the engagement each task is about; the command line, like the
pages, counts the word "None" as a detail not filled in."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import Invoke
from tests.integration.bot.cli.test_cli import DETAILS, _create


def test_a_cancellation_leaves_its_costs_in_the_ledger_not_a_task(
    ready: Invoke, tmp_path: Path
) -> None:
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
    assert "Pay back" not in listed.output and "None" not in listed.output
    owed = ready("payments", "owed")
    assert owed.exit_code == 0, owed.output
    line = next(row for row in owed.output.splitlines() if "LL000001" in row)
    assert "Costs of a cancelled engagement" in line and "EX-1" in line and "Panel" in line
    assert "£0.00" in line and "None" not in owed.output


def test_none_typed_as_a_detail_is_still_to_fill_in(ready: Invoke) -> None:
    details = list(DETAILS)
    details[details.index("--expenses") + 1] = "None"
    created = _create(ready, *details)
    assert created.exit_code == 0, created.output
    assert "Before publishing, fill in: transport_and_expenses" in created.output
    published = ready("engagements", "publish", "1")
    assert published.exit_code == 1 and "transport_and_expenses" in published.output
