"""Texts Twilio may or may not have kept, through the real dispatcher and Twilio's SDK
against the loopback fake: Twilio's message list is asked before any person is, a
conclusive "not there" is sent once more, and a provider incident is one task."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import App, build_app
from channels.base import OutgoingMessage
from channels.dryrun import DryRunChannel
from channels.registry import DEFAULT_LIMITS, SENDABLE, ChannelRegistry
from channels.sms import SmsChannel, SmsConfig
from scheduling.clock import SimulatedClock
from scheduling.rules.decisions import Limits, Send, decide
from scheduling.sending.dispatcher import Dispatcher
from scheduling.sending.outbox import claim_due, load_message
from scheduling.sending.recording import record_tries
from store.enums import Channel, MessageStatus, Purpose, Role, TaskKind, TaskStatus
from store.models import Message, Staff, Task
from tests.builders import add_engagement, add_expert, add_staff, all_tasks
from tests.conftest import _truncate, make_settings
from tests.fakes.twilio import FakeTwilio

pytestmark = pytest.mark.db_contract


@dataclass
class World:
    app: App
    fake: FakeTwilio
    clock: SimulatedClock


@pytest.fixture
async def world(tmp_path: Path, database_url: str, clock: SimulatedClock) -> AsyncIterator[World]:
    fake = await FakeTwilio(now=clock.now).start()
    config = make_settings(tmp_path, database_url)
    app = await build_app(config, clock=clock)
    await _truncate(app)
    sms = SmsChannel(
        SmsConfig(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+447700900000",
            api_base_url=fake.url,
            lookup_wait=0.0,
        ),
        now=clock.now,
    )
    outbox = config.resolved_outbox_dir
    others = [
        DryRunChannel(k, outbox / k.value, DEFAULT_LIMITS[k], postal_tz="Europe/London")
        for k in SENDABLE
        if k is not Channel.SMS
    ]
    app.channels = ChannelRegistry([*others, sms])
    try:
        yield World(app, fake, clock)
    finally:
        await app.aclose()
        await fake.close()


async def _pre_briefs(world: World, people: int = 1) -> list[Message]:
    """``people`` experts who take texts, each invited to one engagement: their pre-briefs,
    with the clock at the time they are due."""
    app = world.app
    async with app.sessions.begin() as session:
        await add_staff(session, "Ali Admin", "ali@example.org", Role.ADMIN, now=app.clock.now())
        experts = [
            await add_expert(app, session, preferred_name=f"Person {n}", phone=f"07123 4567{n:02}")
            for n in range(people)
        ]
        await add_engagement(app, session, experts=experts)
    async with app.sessions() as session:
        briefs = list(
            await session.scalars(
                select(Message).where(Message.purpose == Purpose.PRE_BRIEF).order_by(Message.id)
            )
        )
    world.clock.set(max(m.due_at for m in briefs))
    return briefs


async def _get(world: World, message_id: int) -> Message:
    async with world.app.sessions() as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def _open_tasks(world: World) -> list[Task]:
    return [t for t in await all_tasks(world.app) if t.status is TaskStatus.OPEN]


async def test_a_500_after_twilio_kept_the_text_is_sent_with_no_task(world: World) -> None:
    """The review's M-2: Twilio stored the text, then answered 500."""
    (brief,) = await _pre_briefs(world)
    world.fake.fail_after_storing_next(500, 20500)
    await world.app.dispatcher().run_until_idle()
    message = await _get(world, brief.id)
    (kept,) = world.fake.ledger
    assert message.status is MessageStatus.SENT, message.status_reason
    assert message.provider_id == kept.sid
    assert await _open_tasks(world) == []


async def test_a_500_twilio_did_not_keep_is_sent_once_more(world: World) -> None:
    """Twilio failed and its list, asked after the wait, has no copy: tried again later,
    and exactly one copy reaches the person."""
    (brief,) = await _pre_briefs(world)
    world.fake.fail_next(500, 20500)
    dispatcher = world.app.dispatcher()
    await dispatcher.run_until_idle()
    waiting = await _get(world, brief.id)
    assert waiting.status is MessageStatus.PENDING and world.fake.ledger == []
    world.clock.set(waiting.next_attempt_at)
    await dispatcher.run_until_idle()
    assert (await _get(world, brief.id)).status is MessageStatus.SENT
    assert len(world.fake.ledger) == 1
    assert await _open_tasks(world) == []


async def _die_mid_send(world: World) -> tuple[Message, Dispatcher, OutgoingMessage]:
    """The pre-brief claimed and its try recorded, as a worker leaves it when it dies just
    before or during the provider call."""
    (brief,) = await _pre_briefs(world)
    dispatcher = world.app.dispatcher()
    now = world.clock.now()
    ids = await claim_due(
        world.app.sessions,
        worker=dispatcher.config.worker,
        now=now,
        limit=10,
        lease=dispatcher.config.lease,
    )
    async with world.app.sessions.begin() as session:
        message = await load_message(session, ids[0])
        assert message is not None
        decision = decide(message, world.app.channels, Limits(), now)
        assert isinstance(decision, Send)
        plan = await dispatcher._prepare(session, message, decision, now)
        assert plan is not None
        await record_tries(session, [plan])  # the try is committed before the send
    return brief, dispatcher, plan[2]


async def test_a_crash_after_twilio_took_the_text_settles_it_as_sent(world: World) -> None:
    """The review's L-5: the sweeper asks Twilio's list and finds the text."""
    brief, dispatcher, outgoing = await _die_mid_send(world)
    await world.app.channels[Channel.SMS].send(outgoing)  # Twilio has it; then the crash
    world.clock.advance(dispatcher.config.lease + timedelta(seconds=1))
    assert await dispatcher.sweep_expired_leases() == 1
    message = await _get(world, brief.id)
    assert message.status is MessageStatus.SENT, message.status_reason
    assert message.provider_id == world.fake.ledger[0].sid
    await dispatcher.run_until_idle()
    assert len(world.fake.ledger) == 1
    assert await _open_tasks(world) == []


async def test_a_crash_before_twilio_had_it_sends_exactly_one_copy(world: World) -> None:
    brief, dispatcher, _ = await _die_mid_send(world)
    world.clock.advance(dispatcher.config.lease + timedelta(seconds=1))
    assert await dispatcher.sweep_expired_leases() == 1
    assert (await _get(world, brief.id)).status is MessageStatus.PENDING
    await dispatcher.run_until_idle()
    assert (await _get(world, brief.id)).status is MessageStatus.SENT
    assert len(world.fake.ledger) == 1
    assert await _open_tasks(world) == []


async def test_a_crash_twilio_cannot_answer_about_stays_uncertain(world: World) -> None:
    """An unanswered list is never "not there": nothing is resent, a person checks."""
    brief, dispatcher, _ = await _die_mid_send(world)
    world.clock.advance(dispatcher.config.lease + timedelta(seconds=1))
    world.fake.fail_list_next(503)
    assert await dispatcher.sweep_expired_leases() == 1
    await dispatcher.run_until_idle()
    assert (await _get(world, brief.id)).status is MessageStatus.UNCERTAIN
    assert world.fake.ledger == []
    (task,) = await _open_tasks(world)
    assert task.kind is TaskKind.CHECK_POSSIBLE_SEND and task.message_id == brief.id


async def test_a_provider_incident_is_one_task_for_an_administrator_and_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Five texts left uncertain by one outage (504s: Twilio may still be working on
    them) are one task saying how many and what to check, not five."""
    briefs = await _pre_briefs(world, people=5)
    for _ in briefs:
        world.fake.fail_next(504)
    with caplog.at_level(logging.WARNING):
        await world.app.dispatcher().run_until_idle()
    for brief in briefs:
        assert (await _get(world, brief.id)).status is MessageStatus.UNCERTAIN
    assert world.fake.ledger == []
    (task,) = await _open_tasks(world)
    assert task.kind is TaskKind.CHECK_POSSIBLE_SEND and task.message_id is None
    assert task.title.startswith("Check whether 5 messages reached people")
    details = task.details or ""
    assert "5 messages by text message" in details and "What to check" in details
    assert "Needs attention" in details and "Person 4" in details
    for word in ("None", "sms", "pre_brief", "linkline "):
        assert word not in details
    async with world.app.sessions() as session:
        admin = await session.get(Staff, task.assignee_id)
        assert admin is not None and admin.email == "ali@example.org"
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("5 sms messages left uncertain by a provider problem" in line for line in logged)
    for line in logged:
        assert "Person" not in line and "+44" not in line


async def test_a_lone_uncertain_text_stays_with_its_link_worker(world: World) -> None:
    (brief,) = await _pre_briefs(world)
    world.fake.fail_next(504)
    await world.app.dispatcher().run_until_idle()
    (task,) = await _open_tasks(world)
    assert task.message_id == brief.id and task.title.startswith("Check whether a message")
