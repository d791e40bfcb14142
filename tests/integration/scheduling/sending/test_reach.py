"""Nothing parked that a person could still fix, plans built from what someone's channels
can do, and letters held while a new address waits: through the real planner and
dispatcher, as the expert and their link worker would notice it."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts import contact_changes as changes
from scheduling.clock import SimulatedClock
from store.enums import Channel, MessageStatus, Purpose, TaskKind
from store.models import DeliveryAttempt, Expert, Message, Task
from tests.builders import add_engagement, add_expert, add_staff, all_tasks, outbox, say_yes

LONDON = ZoneInfo("Europe/London")
ADDRESS = "Flat 2; 8 Sample Road; Dundee DD1 1AA"
LETTER_ONLY: dict[str, Any] = {
    "preferred_channel": "letter",
    "phone": None,
    "postal_address": ADDRESS,
    "consent": {"letter": {"allowed": True}},
}
LETTER_AND_CALLS: dict[str, Any] = {
    "preferred_channel": "letter",
    "fallback_channels": "phone",
    "phone": "07123 456789",
    "postal_address": ADDRESS,
    "consent": {"letter": {"allowed": True}, "phone": {"allowed": True}},
}


def _files(app: App) -> list[Path]:
    return sorted(p for p in app.settings.resolved_outbox_dir.rglob("*") if p.is_file())


async def _run_at(app: App, clock: SimulatedClock, when: datetime) -> None:
    clock.set(when)
    await app.dispatcher().run_until_idle()


async def _one(app: App, purpose: Purpose) -> Message:
    found = await outbox(app, purpose=purpose)
    assert len(found) == 1, found
    return found[0]


# --- 1. nothing parked -------------------------------------------------------------------


async def test_a_letter_only_pre_brief_that_cannot_arrive_becomes_a_call_due_the_day_before(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **LETTER_AND_CALLS)
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(days=2, hours=2)
        )
    await app.dispatcher().run_until_idle()
    pre_brief = await _one(app, Purpose.PRE_BRIEF)
    assert pre_brief.status is MessageStatus.HANDED_TO_PERSON
    tasks = await all_tasks(app)
    assert [t.kind for t in tasks] == [TaskKind.PHONE_CALL]
    call = tasks[0]
    # Due while it still helps (the day before), not at the start when it no longer can.
    assert call.due_at == engagement.starts_at - timedelta(days=1)
    assert not call.urgent
    assert "Safe times to call" in call.details
    assert _files(app) == []  # no letter that would land after the meeting


async def test_with_no_agreed_way_to_call_the_link_worker_gets_an_urgent_task_naming_the_loss(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **LETTER_ONLY)
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(days=2, hours=2)
        )
    await app.dispatcher().run_until_idle()
    tasks = await all_tasks(app)
    assert len(tasks) == 1
    task = tasks[0]
    assert task.kind is TaskKind.DELIVERY_PROBLEM and task.urgent
    assert task.title == "Someone cannot be reached in time"
    assert task.due_at == engagement.starts_at - timedelta(days=1)
    assert "Ana" in task.details and "they will miss the information before" in task.details
    assert "First contact workshop" in task.details
    assert "by Tuesday 13 January at 10am" in task.details  # when, in their words
    assert "not agreed to phone calls" in task.details
    for leak in ("None", "pre_brief", "letter skipped", "linkline "):
        assert leak not in task.details


# --- 2. channel-aware plans ----------------------------------------------------------------


async def test_someone_reached_only_by_post_gets_one_letter_carrying_pre_brief_and_reminder(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **LETTER_ONLY)
        engagement = await add_engagement(app, session, experts=[expert])
        await say_yes(app, session, engagement, expert)
    planned = await outbox(app)
    assert [m.purpose for m in planned] == [Purpose.PRE_BRIEF, Purpose.CHECK_IN, Purpose.DE_BRIEF]
    check_in, de_brief = planned[1], planned[2]
    # The check-in has time to come by post, and the de-brief follows well after it.
    assert de_brief.due_at - check_in.due_at >= timedelta(days=8)
    assert check_in.not_after is not None and check_in.not_after <= de_brief.due_at
    await _run_at(app, clock, planned[0].due_at)
    letter = await _one(app, Purpose.PRE_BRIEF)
    assert letter.status is MessageStatus.SENT and letter.channel is Channel.LETTER
    assert "it is your reminder too" in (letter.body or "")
    for when in (check_in.due_at, de_brief.due_at):
        await _run_at(app, clock, when)
    sent = await outbox(app, status=MessageStatus.SENT)
    assert [m.purpose for m in sent] == [Purpose.PRE_BRIEF, Purpose.CHECK_IN, Purpose.DE_BRIEF]
    assert {m.channel for m in sent} == {Channel.LETTER}
    assert not [t for t in await all_tasks(app) if t.kind is TaskKind.DELIVERY_PROBLEM]


async def test_post_only_with_calls_agreed_gets_the_check_in_as_a_call(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **LETTER_AND_CALLS)
        engagement = await add_engagement(app, session, experts=[expert])
        await say_yes(app, session, engagement, expert)
    assert Purpose.REMINDER not in [m.purpose for m in await outbox(app)]
    check_in = await _one(app, Purpose.CHECK_IN)
    await _run_at(app, clock, check_in.due_at)
    tasks = [t for t in await all_tasks(app) if t.message_id == check_in.id]
    assert [t.kind for t in tasks] == [TaskKind.PHONE_CALL]


async def test_the_cap_never_moves_a_reminder_onto_the_day_of_the_engagement(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
    reminder = await _one(app, Purpose.REMINDER)
    pre_brief = await _one(app, Purpose.PRE_BRIEF)
    # The pre-brief was held (a pause, a hold) and goes out early on the reminder's day.
    async with app.sessions.begin() as session:
        held = await session.get(Message, pre_brief.id)
        assert held is not None
        held.next_attempt_at = reminder.due_at - timedelta(hours=1)
    await _run_at(app, clock, reminder.due_at - timedelta(hours=1))
    assert (await _one(app, Purpose.PRE_BRIEF)).status is MessageStatus.SENT
    await _run_at(app, clock, reminder.due_at)
    sent = await _one(app, Purpose.REMINDER)
    assert sent.status is MessageStatus.SENT  # not held to the same morning
    assert sent.sent_at is not None
    event_day = engagement.starts_at.astimezone(LONDON).date()
    assert sent.sent_at.astimezone(LONDON).date() < event_day


async def test_a_held_check_in_never_arrives_with_the_de_brief(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
        await say_yes(app, session, engagement, expert)
        expert_id = expert.id
    check_in = await _one(app, Purpose.CHECK_IN)
    de_brief = await _one(app, Purpose.DE_BRIEF)
    async with app.sessions.begin() as session:  # a worrying reply: everything waits
        person = await session.get(Expert, expert_id)
        assert person is not None
        person.held_since = check_in.due_at - timedelta(hours=1)
    await _run_at(app, clock, check_in.due_at)
    async with app.sessions.begin() as session:  # a person looked; the hold lifts
        person = await session.get(Expert, expert_id)
        assert person is not None
        person.held_since = None
    await _run_at(app, clock, de_brief.due_at)
    sent = await outbox(app, status=MessageStatus.SENT)
    times = sorted(m.sent_at for m in sent if m.purpose in (Purpose.CHECK_IN, Purpose.DE_BRIEF))
    assert all(b - a >= timedelta(days=1) for a, b in pairwise(times))
    assert (await _one(app, Purpose.DE_BRIEF)).status is MessageStatus.SENT
    # The check-in's moment passed while on hold: it is not sent beside the de-brief.
    assert (await _one(app, Purpose.CHECK_IN)).status is MessageStatus.SUPPRESSED


# --- 3. letters held during an address change ----------------------------------------------


async def _ask_for_new_address(app: App, expert_id: int, *, old_address_safe: bool) -> None:
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        sam = await add_staff(session, now=app.clock.now())
        assert expert is not None
        await changes.request_change(
            session,
            app.cipher,
            expert,
            sam,
            channel=Channel.LETTER,
            text="3 New Street\nDundee DD2 2BB",
            now=app.clock.now(),
            actor="test",
            old_address_safe=old_address_safe,
        )


async def test_letters_are_held_while_a_new_address_waits_and_the_message_goes_another_way(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            preferred_channel="letter",
            fallback_channels="email",
            phone=None,
            email="ana@example.net",
            postal_address=ADDRESS,
            consent={"letter": {"allowed": True}, "email": {"allowed": True}},
        )
        await add_engagement(app, session, experts=[expert])
        expert_id = expert.id
    await _ask_for_new_address(app, expert_id, old_address_safe=False)
    pre_brief = await _one(app, Purpose.PRE_BRIEF)
    await _run_at(app, clock, pre_brief.due_at)
    sent = await _one(app, Purpose.PRE_BRIEF)
    assert sent.status is MessageStatus.SENT and sent.channel is Channel.EMAIL
    async with app.sessions() as session:
        attempt = await session.scalar(select(DeliveryAttempt))
    assert attempt is not None and "letter skipped: held" in attempt.router_reason


async def test_with_no_other_way_a_held_letter_becomes_a_task_not_a_letter_to_the_old_home(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **LETTER_ONLY)
        await add_engagement(app, session, experts=[expert])
        expert_id = expert.id
    await _ask_for_new_address(app, expert_id, old_address_safe=False)
    pre_brief = await _one(app, Purpose.PRE_BRIEF)
    await _run_at(app, clock, pre_brief.due_at)
    assert _files(app) == []
    assert (await _one(app, Purpose.PRE_BRIEF)).status is MessageStatus.HANDED_TO_PERSON
    async with app.sessions() as session:
        task = await session.scalar(select(Task).where(Task.message_id == pre_brief.id))
    assert task is not None and task.urgent


async def test_letters_still_go_when_the_requester_recorded_the_old_address_is_safe(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **LETTER_ONLY)
        await add_engagement(app, session, experts=[expert])
        expert_id = expert.id
    await _ask_for_new_address(app, expert_id, old_address_safe=True)
    pre_brief = await _one(app, Purpose.PRE_BRIEF)
    await _run_at(app, clock, pre_brief.due_at)
    sent = await _one(app, Purpose.PRE_BRIEF)
    assert sent.status is MessageStatus.SENT and sent.channel is Channel.LETTER
    assert not [t for t in await all_tasks(app) if t.message_id == pre_brief.id]
