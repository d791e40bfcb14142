"""`linkline replies`, `support-lines` and `staff alerts`, as staff use them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.common import open_app
from bot.services.listening import Inbound, receive
from store.enums import Channel
from tests.cli_runner import Invoke

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n"
)


def _hear(*messages: tuple[str, str]) -> None:
    """Texts arriving as the webhook would hand them over."""

    async def go() -> None:
        async with open_app() as built:
            for n, (sender, text) in enumerate(messages):
                inbound = Inbound(
                    channel=Channel.SMS,
                    provider_ref=f"twilio:SM{n:032d}",
                    sender=sender,
                    text=text,
                    received_at=datetime.now(UTC),
                )
                async with built.sessions.begin() as session:
                    await receive(session, inbound, built.listening())

    asyncio.run(go())


@pytest.fixture
def heard(ready: Invoke, tmp_path: Path) -> Invoke:
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    _hear(
        ("+447123456789", "what time does it start"),
        ("+447123456789", "I can't cope any more"),
        ("+447700900999", "who is this"),
    )
    return ready


def test_waiting_replies_are_listed_worrying_first_with_their_age(heard: Invoke) -> None:
    result = heard("replies")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "Ana" in line or "unknown" in line]
    assert "URGENT" in lines[0] and "worrying" in lines[0]
    assert any("unknown sender" in line for line in lines)
    assert "min" in result.output  # each shows how long it has waited
    strangers = heard("replies", "--strangers")
    assert "unknown sender" in strangers.output and "Ana" not in strangers.output


def test_reading_one_shows_the_words_and_what_was_said_back(heard: Invoke) -> None:
    result = heard("replies", "show", "2")
    assert result.exit_code == 0, result.output
    assert "I can't cope any more" in result.output
    assert "116 123" in result.output  # the support lines went back (discreet: no names)
    assert "Not yet seen" in result.output


def test_acknowledging_the_worrying_reply_lifts_the_hold(heard: Invoke) -> None:
    result = heard("replies", "ack", "2", "--by", "sam@example.org")
    assert result.exit_code == 0, result.output
    assert "can go again" in result.output
    again = heard("replies", "ack", "2", "--by", "sam@example.org")
    assert again.exit_code == 1 and "already seen" in again.output
    assert "seen" in heard("replies", "show", "2").output.lower()


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("replies", "ack", "99", "--by", "sam@example.org"), 1, "no reply 99"),
        (("replies", "ack", "2", "--by", "nobody@example.org"), 1, "no member of staff"),
        (("replies", "show", "two"), 2, "Usage"),
        (("replies", "--expert", "EX-9"), 1, "no expert"),
        (("replies", "ack", "2"), 2, "--by"),
    ],
)
def test_mistakes_get_a_clear_error(
    heard: Invoke, args: tuple[str, ...], code: int, says: str
) -> None:
    result = heard(*args)
    assert result.exit_code == code
    assert says in result.output


def test_support_lines_show_whether_each_is_open_and_when_it_was_checked(cli: Invoke) -> None:
    result = cli("support-lines")
    assert result.exit_code == 0, result.output
    assert "Samaritans" in result.output and "116 123" in result.output
    assert "last checked" in result.output


def test_staff_choose_where_urgent_alerts_reach_them(ready: Invoke) -> None:
    ok = ready("staff", "alerts", "sam@example.org", "--sms", "07123 000111")
    assert ok.exit_code == 0 and "by text" in ok.output
    assert ready("staff", "alerts", "sam@example.org", "--email").exit_code == 0
    bad = ready("staff", "alerts", "sam@example.org", "--sms", "not a number")
    assert bad.exit_code == 1 and "not usable" in bad.output
    both = ready("staff", "alerts", "sam@example.org", "--sms", "07123 000111", "--email")
    assert both.exit_code == 2 and "exactly one" in both.output
    chat = ready("staff", "alerts", "sam@example.org", "--telegram", "abc")
    assert chat.exit_code == 1 and "number" in chat.output
