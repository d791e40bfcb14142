"""Pausing, attendance and "told verbally" on the command line, as a link worker uses them.

The clock is the CLI's own system clock, moved by the test, so a meeting can be set up
ahead and then have happened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduling.clock import SystemClock
from tests.cli_runner import Invoke
from tests.integration.bot.cli.test_cli import DETAILS

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n"
    "EX-2,Ben,sam@example.org,sms,07123 456790,yes,2026-01-05,sam@example.org\n"
)
# Monday 12 January 2026, 8am in London; the meeting is on Thursday 22 January, 2pm to 4pm.
MONDAY = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
MEETING = datetime(2026, 1, 22, 14, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def set(self, when: datetime) -> None:
        self.now = when


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(SystemClock, "now", lambda self: moved.now)
    return moved


@pytest.fixture
def people(ready: Invoke, tmp_path: Path, clock: Clock) -> Invoke:
    """Two experts, EX-1 (Ana) and EX-2 (Ben), invited to published engagement 1."""
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    created = ready(
        "engagements", "create", "--title", "Panel", "--start", "2026-01-22 14:00",
        "--end", "2026-01-22 16:00", "--lead", "sam@example.org", "--publish", *DETAILS,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert ready("engagements", "invite", "1", "EX-1", "EX-2").exit_code == 0
    return ready


def test_the_new_commands_explain_themselves(cli: Invoke) -> None:
    for command in (
        ["experts", "pause"],
        ["experts", "resume"],
        ["engagements", "attendance"],
        ["engagements", "told"],
    ):
        result = cli(*command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_pausing_and_resuming_shows_in_the_experts_list(people: Invoke) -> None:
    dated = people("experts", "pause", "EX-1", "--until", "2026-03-01")
    assert dated.exit_code == 0 and "EX-1 is now paused until 2026-03-01" in dated.output
    waiting = people("experts", "pause", "2")
    assert waiting.exit_code == 0 and "paused until they get in touch" in waiting.output
    listed = people("experts", "list").output
    assert "paused until 2026-03-01" in listed and "paused until they get in touch" in listed
    resumed = people("experts", "resume", "EX-1")
    assert resumed.exit_code == 0 and "EX-1 is active again" in resumed.output
    assert "paused until 2026-03-01" not in people("experts", "list").output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["pause", "EX-1", "--until", "2026-02-30"], 2, "'2026-02-30' is not a date"),
        (["pause", "EX-1", "--until", "soon"], 2, "use the form 2026-03-01"),
        (["pause", "EX-1", "--until", "2026-01-12"], 1, "the pause must end after today"),
        (["pause", "EX-9"], 1, "no expert with id or ref 'EX-9'"),
        (["resume", "EX-1"], 1, "expert EX-1 is not paused"),
    ],
)
def test_a_bad_pause_says_why_and_changes_nothing(
    people: Invoke, args: list[str], code: int, message: str
) -> None:
    before = people("experts", "list").output
    result = people("experts", *args)
    assert result.exit_code == code and message in result.output
    assert "Traceback" not in result.output
    assert people("experts", "list").output == before


def test_a_missed_meeting_gives_a_task_and_two_in_a_row_a_check_in(
    people: Invoke, clock: Clock
) -> None:
    early = people("engagements", "attendance", "1", "EX-1", "missed")
    assert early.exit_code == 1 and "has not started yet" in early.output
    clock.set(MEETING + timedelta(hours=3))
    missed = people("engagements", "attendance", "1", "EX-1", "did", "not", "come")
    assert missed.exit_code == 0, missed.output
    assert "missed it" in missed.output and "a warm note for a person to send" in missed.output
    assert "nothing is sent automatically" in missed.output
    came = people("engagements", "attendance", "1", "EX-2", "came")
    assert came.exit_code == 0 and "EX-2 came" in came.output
    tasks = people("tasks").output
    assert "Send a warm note to someone who missed a meeting" in tasks
    assert "We missed you on Thursday" in tasks
    assert "Check in with someone" not in tasks


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["1", "EX-1", "perhaps"], 2, "'perhaps' is not an attendance: use came"),
        (["1", "EX-9", "came"], 1, "no expert with id or ref 'EX-9'"),
        (["7", "EX-1", "came"], 1, "no engagement with id 7"),
    ],
)
def test_bad_attendance_says_why_and_records_nothing(
    people: Invoke, clock: Clock, args: list[str], code: int, message: str
) -> None:
    clock.set(MEETING + timedelta(hours=3))
    result = people("engagements", "attendance", *args)
    assert result.exit_code == code and message in result.output
    assert "No open tasks" in people("tasks").output


def test_telling_everyone_of_a_late_cancellation_stands_the_venue_visit_down(
    people: Invoke, clock: Clock
) -> None:
    not_cancelled = people("engagements", "told", "1", "EX-1")
    assert not_cancelled.exit_code == 1 and "is not cancelled" in not_cancelled.output
    clock.set(MEETING - timedelta(hours=5))
    assert people("engagements", "cancel", "1", "--reason", "venue flooded").exit_code == 0
    assert "Someone must go to the venue" in people("tasks").output
    shown = people("engagements", "show", "1").output
    assert "still to phone" in shown and "Someone must be at the venue" in shown

    clock.set(MEETING - timedelta(hours=4))
    first = people("engagements", "told", "1", "EX-1", "--note", "rang at 10")
    assert first.exit_code == 0, first.output
    assert "Recorded that expert EX-1 was told" in first.output
    assert "Still to phone: 1" in first.output
    shown = people("engagements", "show", "1").output
    assert "Thu 22 Jan 2026 10:00" in shown  # when Ana was told, UK time
    assert shown.count("still to phone") == 1

    second = people("engagements", "told", "1", "EX-2")
    assert second.exit_code == 0
    assert "nobody needs to go to the venue" in second.output
    assert "Someone must be at the venue" not in people("engagements", "show", "1").output
    assert "venue" not in people("tasks").output.lower()  # only the costs task is left
    outsider = people("engagements", "told", "1", "EX-9")
    assert outsider.exit_code == 1 and "no expert with id or ref" in outsider.output
