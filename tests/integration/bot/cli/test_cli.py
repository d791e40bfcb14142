"""The command line as a link worker or administrator uses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import Result

from tests.cli_runner import Invoke

DETAILS = [
    "--purpose",
    "Shape the first-call service.",
    "--objectives",
    "Hear views.",
    "--outcomes",
    "A list of changes.",
    "--venue",
    "Leith Centre",
    "--address",
    "12 Example Street, Edinburgh",
    "--accessibility",
    "Step-free.",
    "--meeting-point",
    "Sam at the door.",
    "--practitioners",
    "Two designers.",
    "--expenses",
    "Fares paid.",
    "--how-to-claim",
    "Give Sam receipts.",
    "--paperwork",
    "Summary posted a week before.",
]


def _future(days: int, hour: int = 14) -> str:
    day = datetime.now(UTC).astimezone(ZoneInfo("Europe/London")) + timedelta(days=days)
    return day.replace(hour=hour, minute=0).strftime("%Y-%m-%d %H:%M")


def _create(cli: Invoke, *extra: str, start: str = "", end: str = "") -> Result:
    """`linkline engagements create` for a panel ten days ahead, plus any extra options."""
    return cli(
        "engagements",
        "create",
        "--title",
        "Panel",
        "--start",
        start or _future(10),
        "--end",
        end or _future(10, hour=16),
        "--lead",
        "sam@example.org",
        *extra,
    )


def test_every_command_explains_itself(cli: Invoke) -> None:
    for command in [
        [],
        ["db"],
        ["experts"],
        ["engagements"],
        ["staff"],
        ["tasks"],
        ["log"],
        ["run"],
        ["demo"],
        ["keys"],
        ["engagements", "create"],
    ]:
        result = cli(*command, "--help")
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_db_upgrade_is_safe_to_repeat(cli: Invoke) -> None:
    assert cli("db", "upgrade").exit_code == 0
    again = cli("db", "upgrade")
    assert again.exit_code == 0 and "Database ready" in again.output


def test_commands_before_the_database_exists_say_to_upgrade(cli: Invoke) -> None:
    result = cli("engagements", "list")
    assert result.exit_code == 1
    assert "linkline db upgrade" in result.output


def test_an_unreachable_database_gets_one_clear_line(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = cli("engagements", "list")
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output


def test_a_shared_database_without_a_key_is_refused(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("LINKLINE_SECRET_KEY")
    result = cli("engagements", "list")
    assert result.exit_code == 1 and "LINKLINE_SECRET_KEY is not set" in result.output


def test_the_wrong_key_for_an_existing_database_is_refused(
    ready: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.crypto import generate_secret_key

    monkeypatch.setenv("LINKLINE_SECRET_KEY", generate_secret_key())
    result = ready("engagements", "list")
    assert result.exit_code == 1 and "not the key this database was created with" in result.output


def test_a_malformed_setting_is_named(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKLINE_DISPATCH_INTERVAL_SECONDS", "often")
    result = cli("engagements", "list")
    assert result.exit_code == 2 and "LINKLINE_DISPATCH_INTERVAL_SECONDS" in result.output


def test_an_engagement_that_ends_before_it_starts_is_refused_and_not_saved(ready: Invoke) -> None:
    result = _create(ready, end=_future(10, hour=9))
    assert result.exit_code == 1 and "must end after it starts" in result.output
    assert "Panel" not in ready("engagements", "list").output


def test_an_impossible_date_is_refused(ready: Invoke) -> None:
    result = _create(ready, start="2026-02-30 10:00", end="2026-02-30 12:00")
    assert result.exit_code == 2 and "not a date and time" in result.output


def test_a_pre_brief_after_the_meeting_is_refused(ready: Invoke) -> None:
    result = _create(ready, "--pre-brief-days", "-1")
    assert result.exit_code == 1 and "pre-brief must be at least 1 day before" in result.output


def test_publishing_waits_until_people_can_be_told_everything(ready: Invoke) -> None:
    created = _create(ready)
    assert created.exit_code == 0 and "Before publishing, fill in" in created.output
    result = ready("engagements", "publish", "1")
    assert result.exit_code == 1 and "venue_name" in result.output


def test_the_whole_engagement_journey_on_the_command_line(ready: Invoke, tmp_path: object) -> None:
    from pathlib import Path

    csv = Path(str(tmp_path)) / "people.csv"
    csv.write_text(
        "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
        "consent_confirmed_on,consent_confirmed_by\n"
        "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n",
        encoding="utf-8",
    )
    imported = ready("experts", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    created = _create(ready, "--publish", *DETAILS)
    assert created.exit_code == 0, created.output
    invited = ready("engagements", "invite", "1", "EX-1")
    assert invited.exit_code == 0 and "4 added" in invited.output
    shown = ready("engagements", "show", "1")
    assert "pre_brief" in shown.output and "reminder" in shown.output
    log = ready("log", "--status", "pending")
    assert log.exit_code == 0 and "check_in" in log.output
    assert ready("log", "--channel", "pigeon").exit_code == 2
    assert ready("log", "--status", "lost").exit_code == 2
    assert ready("engagements", "answer", "1", "EX-1", "perhaps").exit_code == 2
    cancelled = ready("engagements", "cancel", "1", "--reason", "venue closed")
    assert cancelled.exit_code == 0
    # The costs of the cancelled engagement are a line in the payments ledger, not a task.
    owed = ready("payments", "owed")
    assert "Costs of a cancelled engagement" in owed.output
    claimed = ready("payments", "claim", "1", "EX-1", "cancellation-costs", "3.20")
    assert claimed.exit_code == 0, claimed.output
    assert ready("payments", "approve", "LL000001").exit_code == 0
    assert ready("payments", "paid", "LL000001").exit_code == 0
    assert ready("payments", "paid", "LL000001").exit_code == 1


def test_keys_generate_prints_a_usable_key(cli: Invoke) -> None:
    from store.crypto import Cipher

    key = cli("keys", "generate").output.strip()
    assert Cipher.from_secret(key).decrypt(Cipher.from_secret(key).encrypt("x")) == "x"


@pytest.mark.parametrize(
    ("start", "problem"),
    [("2026-03-29 01:30", "does not exist"), ("2026-10-25 01:30", "happens twice")],
)
def test_times_lost_or_repeated_when_the_clocks_change_are_refused(
    ready: Invoke, start: str, problem: str
) -> None:
    result = _create(ready, start=start, end=start.replace("01:30", "03:30"))
    assert result.exit_code == 2 and problem in result.output
