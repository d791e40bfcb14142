"""A message staff wrote meets the dispatcher and the gate like any other: it waits for
safe times, never moves to a channel nobody previewed, and is kept, exported and purged
as the privacy rules say, with staff notes beside it."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.delivery.written import Writer, WriteRefused, preview, send_written
from bot.services.experts.consent import set_consent
from bot.services.experts.profile import load_profile, pause_expert
from bot.services.inbox.conversation import add_note, conversation
from bot.services.privacy.subject_access import build_export, render_export
from bot.services.staff.accounts import find_staff
from scheduling.clock import SimulatedClock
from scheduling.rules.discreet_words import BlockedWords
from store.enums import Channel, MessageStatus, Purpose, TaskKind
from store.models import Message, StaffNote, Task
from tests.builders import add_expert

BOTH = {
    "preferred_channel": "sms",
    "fallback_channels": "email",
    "email": "ana@example.net",
    "consent": {"sms": {"allowed": True}, "email": {"allowed": True, "details_safe": True}},
}


def _writer(app: App) -> Writer:
    return Writer(app.channels, app.renderer, BlockedWords.load(), "Europe/London")


async def _ana(app: App) -> int:
    async with app.sessions.begin() as session:
        return (await add_expert(app, session, ref="EX-1", **BOTH)).id


async def _write(app: App, words: str, expert_id: int | None = None) -> int:
    expert_id = expert_id or await _ana(app)
    async with app.sessions.begin() as session:
        ana = await load_profile(session, expert_id)
        sam = await find_staff(session, "sam@example.org")
        assert sam is not None
        message, _ = await send_written(
            session,
            _writer(app),
            ana,
            words,
            sam,
            app.clock.now(),
            token=secrets.token_hex(8),
            actor="test",
        )
        return message.id


async def _message(app: App, message_id: int) -> Message:
    async with app.sessions() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def test_written_at_night_it_waits_for_their_safe_times(
    app: App, clock: SimulatedClock
) -> None:
    clock.set(clock.now().replace(hour=22))  # 10pm in winter London
    expert_id = await _ana(app)
    async with app.sessions() as session:
        ana = await load_profile(session, expert_id)
        shown = preview(_writer(app), ana, "See you Thursday.", clock.now())
    assert shown.goes_when == (
        "It will wait for their safe times and go on Tuesday 13 January at 9am."
    )
    message_id = await _write(app, "See you Thursday.", expert_id)
    await app.dispatcher().run_until_idle()
    waiting = await _message(app, message_id)
    assert waiting.status is MessageStatus.PENDING and waiting.sent_at is None
    clock.set(shown.goes_at + timedelta(minutes=1))
    await app.dispatcher().run_until_idle()
    sent = await _message(app, message_id)
    assert sent.status is MessageStatus.SENT and sent.channel is Channel.SMS
    assert sent.body == "See you Thursday."


async def test_it_never_goes_a_way_nobody_previewed(app: App, clock: SimulatedClock) -> None:
    clock.advance(timedelta(hours=3))
    message_id = await _write(app, "Hello from Sam.")
    async with app.sessions.begin() as session:  # texts are withdrawn before it goes
        message = await _message(app, message_id)
        ana = await load_profile(session, message.expert_id)
        sam = await find_staff(session, "sam@example.org")
        assert sam is not None
        await set_consent(
            session, ana, Channel.SMS, allowed=False, details_safe=False, confirmed_by=sam,
            confirmed_on=clock.now().date(), now=clock.now(), actor="test",
        )  # fmt: skip
    await app.dispatcher().run_until_idle()
    held = await _message(app, message_id)
    assert held.status is MessageStatus.HANDED_TO_PERSON  # not by email instead
    async with app.sessions() as session:
        task = await session.scalar(select(Task).where(Task.message_id == message_id))
    assert task is not None and task.kind is TaskKind.DELIVERY_PROBLEM


async def test_notes_are_in_their_subject_access_file_and_purged_with_the_records(
    app: App, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(hours=3))
    message_id = await _write(app, "Thanks for today.")
    async with app.sessions.begin() as session:
        message = await _message(app, message_id)
        ana = await load_profile(session, message.expert_id)
        sam = await find_staff(session, "sam@example.org")
        assert sam is not None
        await add_note(session, ana, sam, "Asked for calls after 4pm.", clock.now(), actor="t")
        turns = await conversation(session, ana)
        record = await build_export(session, ana, now=clock.now(), tz="Europe/London")
    assert [t.text for t in turns] == ["Thanks for today."]  # the note is not in the thread
    html = render_export(record)
    assert "Asked for calls after 4pm." in html and "Sam Taylor" in html
    clock.advance(timedelta(days=2191))
    await app.maintenance().purge()
    async with app.sessions() as session:
        assert list(await session.scalars(select(StaffNote))) == []


async def test_a_pause_they_asked_for_stops_staff_words_too(
    app: App, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(hours=3))
    expert_id = await _ana(app)
    async with app.sessions.begin() as session:
        ana = await load_profile(session, expert_id)
        await pause_expert(session, ana, until=None, now=clock.now(), actor="test")
    async with app.sessions() as session:
        ana = await load_profile(session, expert_id)
        shown = preview(_writer(app), ana, "Just checking in.", clock.now())
    assert not shown.can_send
    assert shown.problems[0] == (
        "They asked to pause contact, so nothing can be sent until it ends."
    )
    with pytest.raises(WriteRefused, match="pause contact"):
        await _write(app, "Just checking in.", expert_id)
    async with app.sessions() as session:
        assert (
            list(
                await session.scalars(select(Message.id).where(Message.purpose == Purpose.WRITTEN))
            )
            == []
        )


async def test_the_preview_says_why_it_goes_another_way(app: App, clock: SimulatedClock) -> None:
    clock.advance(timedelta(hours=3))
    expert_id = await _ana(app)
    async with app.sessions.begin() as session:
        ana = await load_profile(session, expert_id)
        sms = next(p for p in ana.contact_points if p.channel is Channel.SMS)
        sms.opted_out_at, sms.opt_out_reason = clock.now(), "STOP"
    async with app.sessions() as session:
        ana = await load_profile(session, expert_id)
        shown = preview(_writer(app), ana, "Hello, it's Sam.", clock.now())
    assert shown.channel is Channel.EMAIL and shown.sms_segments is None
    assert shown.why_channel == (
        "Email is the next way they agreed to: text message can't be used (they asked us "
        "to stop this way)."
    )
    assert shown.subject == "A message from Sam"
    # The lock screen shows their words first; the email's how-to-answer line follows.
    assert shown.lock_screen.startswith("From Sam: A message from Sam — Hello, it's Sam. To answer")
