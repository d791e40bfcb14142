"""The contact loop as a person would notice it: what is sent, when, and what is not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as service
from channels.base import OutgoingMessage
from scheduling.clock import SimulatedClock
from scheduling.people.ledger import lines_for
from scheduling.sending.dispatcher import Dispatcher
from store.enums import (
    AttemptOutcome,
    InvitationAnswer,
    MessageStatus,
    PaymentPurpose,
    PaymentStatus,
    Purpose,
    TaskKind,
)
from store.models import DeliveryAttempt, Message
from tests.builders import add_engagement, add_expert, all_tasks, outbox
from tests.integration.scheduling.sending.tried import claim_and_try_first


async def _run_at(app: App, clock: SimulatedClock, when: object) -> None:
    clock.set(when)  # type: ignore[arg-type]
    await app.dispatcher().run_until_idle()


async def _first_planned(app: App) -> Message:
    """One expert invited to one published engagement: their first planned message."""
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert])
    return (await outbox(app))[0]


def _outbox_files(app: App) -> list[Path]:
    return sorted(p for p in app.settings.resolved_outbox_dir.rglob("*") if p.is_file())


async def test_an_invited_expert_gets_pre_brief_reminder_check_in_and_de_brief(app: App) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert])
    purposes = [m.purpose for m in await outbox(app)]
    assert purposes == [Purpose.PRE_BRIEF, Purpose.REMINDER, Purpose.CHECK_IN, Purpose.DE_BRIEF]


async def test_each_message_is_sent_once_at_its_time_and_recorded(
    app: App, clock: SimulatedClock
) -> None:
    pre_brief = await _first_planned(app)
    await _run_at(app, clock, pre_brief.due_at - timedelta(minutes=1))
    assert _outbox_files(app) == []  # never early
    await _run_at(app, clock, pre_brief.due_at)
    await app.dispatcher().run_until_idle()  # a second pass sends nothing more
    sent = await outbox(app, status=MessageStatus.SENT)
    assert [m.id for m in sent] == [pre_brief.id]
    assert len(_outbox_files(app)) == 1
    text = _outbox_files(app)[0].read_text()
    assert "Hi Ana, it's Sam." in text
    async with app.sessions() as session:
        attempts = list(await session.scalars(select(DeliveryAttempt)))
    assert [a.outcome for a in attempts] == [AttemptOutcome.ACCEPTED]
    assert "preferred channel" in attempts[0].router_reason


async def test_a_message_due_at_night_is_held_until_the_safe_window_opens(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app, session, windows=[{"days": "every day", "hours": "18:00-20:00"}]
        )
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)  # 10:00 London, outside 18:00-20:00
    held = (await outbox(app, id=pre_brief.id))[0]
    assert held.status is MessageStatus.PENDING
    assert "held until" in (held.status_reason or "")
    assert held.next_attempt_at.hour == 18  # 18:00 GMT in January
    assert _outbox_files(app) == []
    await _run_at(app, clock, held.next_attempt_at)
    assert (await outbox(app, id=pre_brief.id))[0].status is MessageStatus.SENT


async def test_a_channel_nobody_confirmed_as_safe_is_never_used(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, consent={})
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.HANDED_TO_PERSON
    assert "nobody has confirmed it is safe" in (message.status_reason or "")
    assert _outbox_files(app) == []
    assert [t.kind for t in await all_tasks(app)] == [TaskKind.DELIVERY_PROBLEM]


async def test_a_fallback_is_used_when_the_preferred_channel_is_not_allowed(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            fallback_channels="email",
            email="ana@example.net",
            consent={"email": {"allowed": True}},
        )
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.SENT and message.channel.value == "email"
    async with app.sessions() as session:
        attempt = await session.scalar(select(DeliveryAttempt))
    assert attempt is not None and "sms skipped" in attempt.router_reason


async def test_saying_no_stops_every_message_about_it(app: App, clock: SimulatedClock) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
        await service.record_answer(
            session,
            engagement,
            expert.id,
            InvitationAnswer.NO,
            app.offsets,
            now=clock.now(),
            actor="test",
        )
    statuses = {m.status for m in await outbox(app)}
    assert statuses == {MessageStatus.SUPPRESSED}
    clock.advance(timedelta(days=30))
    await app.dispatcher().run_until_idle()
    assert _outbox_files(app) == []


async def test_a_paused_expert_gets_nothing_until_the_pause_ends(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        expert.paused_until = (clock.now() + timedelta(days=60)).date()
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.SUPPRESSED
    assert "paused until" in (message.status_reason or "")


async def test_moving_an_engagement_moves_unsent_messages_and_tells_those_already_told(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    async with app.sessions.begin() as session:
        engagement = await service.get_engagement(session, engagement.id)
        await service.move(
            session,
            engagement,
            engagement.starts_at + timedelta(days=7),
            engagement.ends_at + timedelta(days=7),
            app.offsets,
            now=clock.now(),
            actor="test",
        )
    messages = await outbox(app)
    notice = [m for m in messages if m.purpose is Purpose.TIME_CHANGED]
    assert len(notice) == 1
    reminder = next(m for m in messages if m.purpose is Purpose.REMINDER)
    assert reminder.due_at.date() == (engagement.starts_at - timedelta(days=1)).date()
    await app.dispatcher().run_until_idle()
    text = next(p for p in _outbox_files(app) if "time_changed" in p.name).read_text()
    assert "The time has changed" in text


async def test_replanning_twice_changes_nothing(app: App, clock: SimulatedClock) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
        again = await service.invite(
            session, engagement, [expert], app.offsets, now=clock.now(), actor="test"
        )
    assert (again.added, again.moved, again.cancelled) == (0, 0, 0)
    async with app.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 4


async def test_a_late_cancellation_tells_people_and_gives_staff_the_calls_to_make(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(hours=26)
        )
    clock.advance(timedelta(hours=6))  # now 20 hours before the start
    async with app.sessions.begin() as session:
        engagement = await service.get_engagement(session, engagement.id)
        await service.cancel(session, engagement, "venue closed", now=clock.now(), actor="test")
    await app.dispatcher().run_until_idle()
    kinds = sorted(t.kind.value for t in await all_tasks(app))
    assert kinds == ["phone_call", "venue_visit"]
    assert all(t.urgent for t in await all_tasks(app))
    async with app.sessions() as session:  # the costs are a line in the ledger, not a task
        (costs,) = await lines_for(session, engagement_id=engagement.id)
    assert (costs.purpose, costs.status) == (PaymentPurpose.CANCELLATION_COSTS, PaymentStatus.OWED)
    notice = (await outbox(app, purpose=Purpose.CANCELLATION))[0]
    assert notice.status is MessageStatus.SENT
    others = await outbox(app)
    assert {m.status for m in others if m.purpose is not Purpose.CANCELLATION} <= {
        MessageStatus.CANCELLED,
        MessageStatus.SENT,
    }


async def test_a_cancellation_held_past_the_24_hour_mark_by_safe_hours_becomes_a_call(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, windows=[{"days": "sat", "hours": "10:00-11:00"}])
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(days=3)
        )  # a Thursday
        engagement = await service.get_engagement(session, engagement.id)
        await service.cancel(session, engagement, "ill", now=clock.now(), actor="test")
    await app.dispatcher().run_until_idle()
    notice = (await outbox(app, purpose=Purpose.CANCELLATION))[0]
    assert notice.status is MessageStatus.HANDED_TO_PERSON  # Saturday is after the meeting
    tasks = await all_tasks(app)
    assert any(t.kind is TaskKind.PHONE_CALL and t.urgent for t in tasks)
    assert _outbox_files(app) == []


async def test_phone_contact_becomes_a_task_with_a_script_for_the_link_worker(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app, session, preferred_channel="phone", consent={"phone": {"allowed": True}}
        )
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    (task,) = await all_tasks(app)
    assert task.kind is TaskKind.PHONE_CALL
    assert "Call Ana" in (task.details or "") and "+447123456789" in (task.details or "")
    assert "Safe times to call" in (task.details or "")


async def test_cover_signs_messages_while_the_link_worker_is_away(
    app: App, clock: SimulatedClock
) -> None:
    from bot.services.staff.accounts import create_staff, find_staff, set_cover
    from store.enums import Role

    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        sam = await find_staff(session, "sam@example.org")
        jo = await create_staff(
            session,
            name="Jo Reid",
            email="jo@example.org",
            role=Role.LINK_WORKER,
            now=clock.now(),
            actor="test",
        )
        assert sam is not None
        first = (clock.now() + timedelta(days=3)).date()
        await set_cover(
            session, sam, jo, first, first + timedelta(days=1), now=clock.now(), actor="test"
        )
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    assert "it's Jo, covering for Sam" in _outbox_files(app)[0].read_text()


async def test_nothing_more_than_a_week_late_is_sent_automatically(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert], starts_in=timedelta(days=40))
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at + timedelta(days=8))
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.HANDED_TO_PERSON
    assert "late" in (message.status_reason or "")
    assert not any("pre_brief" in p.name for p in _outbox_files(app))


async def _die_mid_send(
    app: App, clock: SimulatedClock
) -> tuple[Message, Dispatcher, OutgoingMessage]:
    """The first pre-brief claimed and its try recorded, as a worker leaves it when it dies
    just before the provider call: (message, a new worker's dispatcher, what was to go)."""
    pre_brief = await _first_planned(app)
    clock.set(pre_brief.due_at)
    dispatcher = app.dispatcher()
    _, ready = await claim_and_try_first(dispatcher, clock)  # committed before the send
    return pre_brief, dispatcher, ready.outgoing


@pytest.mark.db_contract
async def test_a_worker_that_died_mid_send_is_settled_without_a_blind_resend(
    app: App, clock: SimulatedClock
) -> None:
    pre_brief, dispatcher, outgoing = await _die_mid_send(app, clock)
    await app.channels[outgoing.channel].send(outgoing)  # the provider got it; then the crash
    clock.advance(dispatcher.config.lease + timedelta(seconds=1))
    assert await dispatcher.sweep_expired_leases() == 1
    settled = (await outbox(app, id=pre_brief.id))[0]
    assert settled.status is MessageStatus.SENT  # found at the provider: not sent again
    assert len(_outbox_files(app)) == 1


async def test_a_send_the_provider_never_had_is_retried_and_not_counted_against_the_cap(
    app: App, clock: SimulatedClock
) -> None:
    """The worker died after recording the try and before the call: the dry-run folder
    proves nothing went out, so the pre-brief goes today, not after the daily cap."""
    pre_brief, dispatcher, _ = await _die_mid_send(app, clock)
    clock.advance(dispatcher.config.lease + timedelta(seconds=1))
    assert await dispatcher.sweep_expired_leases() == 1
    await dispatcher.run_until_idle()
    settled = (await outbox(app, id=pre_brief.id))[0]
    assert settled.status is MessageStatus.SENT
    assert len(_outbox_files(app)) == 1


@pytest.mark.db_contract
async def test_a_stale_claim_with_no_send_started_is_simply_retried(
    app: App, clock: SimulatedClock
) -> None:
    from scheduling.sending.outbox import claim_due

    pre_brief = await _first_planned(app)
    clock.set(pre_brief.due_at)
    await claim_due(
        app.sessions, worker="dead-worker", now=clock.now(), limit=10, lease=timedelta(minutes=2)
    )
    clock.advance(timedelta(minutes=3))
    dispatcher = app.dispatcher()
    assert await dispatcher.sweep_expired_leases() == 1
    await dispatcher.run_until_idle()
    assert (await outbox(app, id=pre_brief.id))[0].status is MessageStatus.SENT


async def test_a_text_too_long_for_sms_falls_back_to_the_next_channel(
    app: App, clock: SimulatedClock, tmp_path: Path
) -> None:
    from scheduling.text.rendering import Renderer

    folder = tmp_path / "templates"
    for purpose in ("pre_brief", "reminder", "check_in"):
        (folder / purpose).mkdir(parents=True)
        (folder / purpose / "sms.txt").write_text("Hi {{ name }}. " + "word " * 200)
        (folder / purpose / "email.txt").write_text("Subject: A note\nHi {{ name }}.")
    app.renderer = Renderer(folder)
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            fallback_channels="email",
            email="ana@example.net",
            consent={"sms": {"allowed": True}, "email": {"allowed": True}},
        )
        await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.SENT and message.channel is not None
    assert message.channel.value == "email"
    async with app.sessions() as session:
        attempts = list(await session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))
    assert [a.outcome for a in attempts] == [
        AttemptOutcome.PERMANENT_FAILURE,
        AttemptOutcome.ACCEPTED,
    ]
    assert "characters; the most is 480" in (attempts[0].error or "")


async def test_a_send_that_may_have_gone_through_is_never_resent_and_a_person_checks(
    app: App, clock: SimulatedClock, tmp_path: Path
) -> None:
    from channels.base import OutcomeUnknown, Receipt
    from channels.dryrun import DryRunChannel
    from channels.registry import ChannelRegistry
    from store.enums import Channel

    class NoAnswer(DryRunChannel):
        calls = 0

        async def send(self, message: OutgoingMessage) -> Receipt:
            NoAnswer.calls += 1
            raise OutcomeUnknown("no answer after the request was sent")

    app.channels = ChannelRegistry([NoAnswer(Channel.SMS, tmp_path / "sms")])
    pre_brief = await _first_planned(app)
    await _run_at(app, clock, pre_brief.due_at)
    clock.advance(timedelta(days=1))
    await app.dispatcher().run_until_idle()
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.UNCERTAIN
    assert "may have been sent" in (message.status_reason or "")
    assert NoAnswer.calls == 1
    assert [t.kind for t in await all_tasks(app)] == [TaskKind.CHECK_POSSIBLE_SEND]


@pytest.mark.db_contract
async def test_a_worker_whose_lease_ran_out_leaves_the_message_to_the_new_owner(
    app: App, clock: SimulatedClock
) -> None:
    from dataclasses import replace

    from scheduling.sending.outbox import claim_due

    pre_brief = await _first_planned(app)
    clock.set(pre_brief.due_at)
    slow = app.dispatcher()
    slow.config = replace(slow.config, worker="slow-worker")
    await claim_due(
        app.sessions, worker="slow-worker", now=clock.now(), limit=10, lease=slow.config.lease
    )
    clock.advance(slow.config.lease + timedelta(seconds=1))  # the slow batch overran
    other = app.dispatcher()
    assert await other.sweep_expired_leases() == 1
    await other.run_until_idle()  # the new owner sends it
    await slow._process(pre_brief.id)  # the slow worker finally reaches it
    assert len(_outbox_files(app)) == 1
    assert (await outbox(app, id=pre_brief.id))[0].status is MessageStatus.SENT


async def test_a_cancellation_letter_arriving_inside_24_hours_still_brings_a_call(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            preferred_channel="letter",
            phone=None,
            postal_address="Flat 2; 8 Sample Road; Dundee DD1 1AA",
            consent={"letter": {"allowed": True}},
        )
        # Cancelled on Monday morning for Friday 10am: a letter cannot arrive a day ahead.
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(days=4, hours=2)
        )
        engagement = await service.get_engagement(session, engagement.id)
        await service.cancel(session, engagement, "venue closed", now=clock.now(), actor="test")
    await app.dispatcher().run_until_idle()
    kinds = {t.kind for t in await all_tasks(app)}
    assert TaskKind.PHONE_CALL in kinds and TaskKind.VENUE_VISIT in kinds


async def test_cancelling_a_draft_tells_nobody(app: App, clock: SimulatedClock) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(
            app, session, experts=[expert], publish=False, starts_in=timedelta(hours=20)
        )
        await service.cancel(session, engagement, "not needed", now=clock.now(), actor="test")
    await app.dispatcher().run_until_idle()
    assert await outbox(app, purpose=Purpose.CANCELLATION) == []
    assert await all_tasks(app) == []


async def test_saying_yes_after_no_brings_the_contact_plan_back(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
        for answer in (InvitationAnswer.NO, InvitationAnswer.YES, InvitationAnswer.YES):
            engagement = await service.get_engagement(session, engagement.id)
            await service.record_answer(
                session, engagement, expert.id, answer, app.offsets, now=clock.now(), actor="test"
            )
    pending = await outbox(app, status=MessageStatus.PENDING)
    assert sorted(m.purpose.value for m in pending) == [
        "check_in",
        "de_brief",
        "pre_brief",
        "reminder",
    ]


async def test_moving_twice_before_anyone_is_told_sends_one_notice(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app, session, windows=[{"days": "every day", "hours": "09:00-10:00"}]
        )
        engagement = await add_engagement(app, session, experts=[expert])
    pre_brief = (await outbox(app))[0]
    await _run_at(app, clock, pre_brief.due_at)  # 10:00 GMT is outside 09:00-10:00: held
    clock.set((await outbox(app))[0].next_attempt_at)
    await app.dispatcher().run_until_idle()  # sent the next morning
    clock.advance(timedelta(hours=12))  # 21:00: outside safe hours, notices are held
    for days in (7, 8):
        async with app.sessions.begin() as session:
            engagement = await service.get_engagement(session, engagement.id)
            await service.move(
                session,
                engagement,
                engagement.starts_at + timedelta(days=days),
                engagement.ends_at + timedelta(days=days),
                app.offsets,
                now=clock.now(),
                actor="test",
            )
    notices = await outbox(app, purpose=Purpose.TIME_CHANGED)
    assert [m.status for m in notices] == [MessageStatus.CANCELLED, MessageStatus.PENDING]


@pytest.mark.db_contract
async def test_a_message_that_keeps_stopping_workers_goes_to_a_person(
    app: App, clock: SimulatedClock
) -> None:
    from scheduling.sending.outbox import claim_due

    pre_brief = await _first_planned(app)
    clock.set(pre_brief.due_at)
    dispatcher = app.dispatcher()
    for _ in range(3):  # a worker claims it and dies before doing anything, three times
        await claim_due(
            app.sessions, worker="crashing", now=clock.now(), limit=10, lease=timedelta(minutes=2)
        )
        clock.advance(timedelta(minutes=3))
        assert await dispatcher.sweep_expired_leases() == 1
    message = (await outbox(app, id=pre_brief.id))[0]
    assert message.status is MessageStatus.HANDED_TO_PERSON
    assert [t.kind for t in await all_tasks(app)] == [TaskKind.DELIVERY_PROBLEM]
    assert _outbox_files(app) == []


async def test_a_stopping_worker_finishes_its_batch_not_the_whole_backlog(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        for n in range(3):
            expert = await add_expert(app, session, phone=f"07123 00000{n}")
            await add_engagement(app, session, experts=[expert], starts_in=timedelta(hours=30))
    dispatcher = app.dispatcher()
    clock.set(clock.now() + timedelta(hours=2))  # inside safe hours; pre-briefs are due
    asked: list[int] = []

    def keep_going() -> bool:
        asked.append(1)
        return len(asked) == 1  # stop is asked for while the first batch runs

    dispatcher.config = replace(dispatcher.config, batch_size=1)
    assert await dispatcher.run_until_idle(keep_going=keep_going) == 1
    assert len(await outbox(app, status=MessageStatus.PENDING)) >= 2
