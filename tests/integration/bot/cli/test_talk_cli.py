"""Writing to an expert and reading the conversation from the command line: the preview
says how and when it goes, the gate's rules refuse with a sentence, and a refusal saves
nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.common import open_app
from store.enums import Channel, Purpose
from store.models import Message, Reply, StaffNote
from tests.cli_runner import Invoke

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,phone,consent_sms,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,sms,07123 456789,yes,2026-01-05,sam@example.org\n"
)
SAM = "sam@example.org"


@pytest.fixture
def ana(ready: Invoke, tmp_path: Path) -> Invoke:
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    assert ready("experts", "import", str(csv)).exit_code == 0
    return ready


def _written() -> list[tuple[Channel | None, str | None, int | None]]:
    async def go() -> list[tuple[Channel | None, str | None, int | None]]:
        async with open_app() as built, built.sessions() as session:
            rows = await session.scalars(
                select(Message).where(Message.purpose == Purpose.WRITTEN).order_by(Message.id)
            )
            return [(m.channel, m.personal_note, m.written_by_id) for m in rows]

    return asyncio.run(go())


def test_a_message_is_previewed_then_queued_for_the_gate(ana: Invoke) -> None:
    result = ana("experts", "message", "EX-1", "Hi Ana, it's Sam. How are you doing?", "--by", SAM)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Channel: Text message is the way they prefer." in out
    assert "Lock screen: Hi Ana, it's Sam. How are you doing?" in out
    assert "Length: 1 text (SMS segments)" in out
    assert "When: " in out and "Queued text message to EX-1." in out
    assert "None" not in out and "sms" not in out
    [(channel, words, writer)] = _written()
    assert channel is Channel.SMS and words == "Hi Ana, it's Sam. How are you doing?"
    assert writer is not None


def test_a_preview_sends_nothing(ana: Invoke) -> None:
    result = ana("experts", "message", "EX-1", "Hello", "--by", SAM, "--preview")
    assert result.exit_code == 0, result.output
    assert "Nothing was sent" in result.output
    assert _written() == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("EX-1", "   ", "--by", SAM), "write the message first: it is empty"),
        (("EX-1", "x" * 481, "--by", SAM), "text message can carry at most 480"),
        (("EX-1", "x" * 2001, "--by", SAM), "a message can be at most 2000"),
        (("EX-9", "Hello", "--by", SAM), "no expert with id or ref 'EX-9'"),
        (("EX-1", "Hello", "--by", "nobody@example.org"), "no member of staff"),
        (("EX-1", "Hello", "--by", SAM, "--channel", "email"), "email can't be used for them"),
        (("EX-1", "Hello", "--by", SAM, "--channel", "pigeon"), "is not a way we write"),
        (("EX-1", "Hello", "--by", SAM, "--channel", "phone"), "a phone call is made by a person"),
        (("EX-1", "Hello\x00", "--by", SAM), "a character nobody can type"),
        (
            ("EX-1", "About the survivors' group", "--by", SAM),
            "it contains \u201csurvivor\u201d, which must not appear",
        ),
    ],
)
def test_malformed_or_unsafe_messages_are_refused_with_a_sentence(
    ana: Invoke, args: tuple[str, ...], said: str
) -> None:
    result = ana("experts", "message", *args)
    assert result.exit_code == 1, result.output
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert _written() == []


def test_only_their_worker_their_cover_or_an_administrator_may_write(ana: Invoke) -> None:
    assert ana("staff", "create", "Lee Park", "--email", "lee@example.org").exit_code == 0
    result = ana("experts", "message", "EX-1", "Hello", "--by", "lee@example.org")
    assert result.exit_code == 1
    assert "is not EX-1's link worker" in result.output
    assert _written() == []


def _add_reply(text: str) -> None:
    async def go() -> None:
        async with open_app() as built, built.sessions.begin() as session:
            expert_id = await session.scalar(select(func.min(Message.expert_id)))
            session.add(
                Reply(
                    expert_id=expert_id,
                    channel=Channel.SMS,
                    body=text,
                    received_at=datetime(2026, 1, 6, 10, 0, tzinfo=UTC),
                    needs_person=True,
                )
            )

    asyncio.run(go())


def _notes() -> int:
    async def go() -> int:
        async with open_app() as built, built.sessions() as session:
            return int(await session.scalar(select(func.count(StaffNote.id))) or 0)

    return asyncio.run(go())


def test_the_thread_shows_what_passed_and_keeps_notes_apart(ana: Invoke) -> None:
    assert ana("experts", "message", "EX-1", "How did it go?", "--by", SAM).exit_code == 0
    _add_reply("It went fine thanks")
    noted = ana("experts", "note", "EX-1", "Sounded tired; call next week", "--by", SAM)
    assert noted.exit_code == 0, noted.output
    empty = ana("experts", "note", "EX-1", "  ", "--by", SAM)
    assert empty.exit_code == 1 and "write the note first" in empty.output
    assert _notes() == 1

    result = ana("experts", "thread", "EX-1")
    assert result.exit_code == 0, result.output
    out = result.output
    their_words, our_words = out.index("It went fine thanks"), out.index("How did it go?")
    notes_heading = out.index("Staff notes (they never see these)")
    assert our_words < notes_heading and their_words < notes_heading  # notes come apart
    assert out.index("Sounded tired; call next week") > notes_heading
    assert "Text message, from them: Their reply, Ana" in out
    assert "Written by staff, Sam Taylor [Waiting to be sent]" in out
    assert "None" not in out and "written" not in out.replace("Written", "")
    missing = ana("experts", "thread", "EX-9")
    assert missing.exit_code == 1 and "no expert" in missing.output
