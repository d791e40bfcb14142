"""Leaving with care and the private "not safe now" word, on the command line as a link
worker uses them; every wrong input says why and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
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
MONDAY = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


@pytest.fixture
def people(ready: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Ana (EX-1) and Ben (EX-2), both invited to a published panel led by Sam."""
    monkeypatch.setattr(SystemClock, "now", lambda self: MONDAY)
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    assert ready("staff", "create", "Lee Jones", "--email", "lee@example.org").exit_code == 0
    created = ready(
        "engagements", "create", "--title", "Panel", "--start", "2026-01-22 14:00",
        "--end", "2026-01-22 16:00", "--lead", "sam@example.org", "--publish", *DETAILS,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert ready("engagements", "invite", "1", "EX-1", "EX-2").exit_code == 0
    return ready


def test_the_new_commands_explain_themselves(cli: Invoke) -> None:
    for command in (["experts", "withdraw"], ["experts", "not-safe-word"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command
    assert "withdraw" in cli("experts", "--help").output


def test_withdrawing_stops_everything_and_opens_the_exit_conversation(people: Invoke) -> None:
    done = people(
        "experts", "withdraw", "EX-1", "--reason", "Moving away", "--by", "sam@example.org",
        "--goodbye", "Thank you for everything, Ana. The door is always open.",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "EX-1 has left" in done.output
    assert "1 invitation(s) withdrawn" in done.output
    assert "the goodbye waits for their safe hours" in done.output
    assert "Their record is erased on 12 January 2027" in " ".join(done.output.split())
    assert "withdrawn" in people("experts", "list").output
    tasks = people("tasks").output
    assert "A conversation about leaving" in tasks
    assert "Someone invited has left" in tasks
    # Nothing planned for Ana will go; the goodbye is the one message still waiting.
    log = people("log").output
    assert "goodbye" in log and "pending" in log
    again = people("experts", "withdraw", "EX-1", "--reason", "Again", "--by", "sam@example.org")
    assert again.exit_code == 1 and "they have already withdrawn" in again.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["withdraw", "EX-9", "--reason", "x", "--by", "sam@example.org"], 1, "no expert"),
        (["withdraw", "EX-1", "--reason", "x", "--by", "nobody@example.org"], 1, "no member"),
        (["withdraw", "EX-1", "--reason", "  ", "--by", "sam@example.org"], 1, "give a reason"),
        (["withdraw", "EX-1", "--reason", "a\x00b", "--by", "sam@example.org"], 1, "plain text"),
        (["withdraw", "EX-1", "--reason", "x" * 501, "--by", "sam@example.org"], 1, "at most"),
        (["withdraw", "EX-1", "--by", "sam@example.org"], 2, "--reason"),
        (
            ["withdraw", "EX-1", "--reason", "x", "--by", "lee@example.org", "--goodbye", "Bye"],
            1,
            "only their link worker",
        ),
        (["not-safe-word", "EX-1"], 2, "give the word, or --clear"),
        (["not-safe-word", "EX-1", "pineapple", "--clear"], 2, "give the word, or --clear"),
        (["not-safe-word", "EX-1", "hello"], 1, "too common"),
        (["not-safe-word", "EX-1", "stop"], 1, "too common"),
        (["not-safe-word", "EX-1", "unpause"], 1, "already means something"),
        (["not-safe-word", "EX-1", "--clear"], 1, 'no "not safe now" word'),
        (["not-safe-word", "EX-9", "pineapple"], 1, "no expert"),
    ],
)
def test_bad_input_says_why_and_changes_nothing(
    people: Invoke, args: list[str], code: int, message: str
) -> None:
    before = people("experts", "list").output
    result = people("experts", *args)
    assert result.exit_code == code and message in result.output, result.output
    assert "Traceback" not in result.output
    assert people("experts", "list").output == before


def test_a_word_is_set_and_cleared_and_never_shown(people: Invoke) -> None:
    done = people("experts", "not-safe-word", "EX-1", "Pineapple")
    assert done.exit_code == 0 and "The word for EX-1 is set" in done.output
    assert "ineapple" not in people("experts", "list").output
    cleared = people("experts", "not-safe-word", "EX-1", "--clear")
    assert cleared.exit_code == 0 and "removed" in cleared.output
