"""The rules a person notices at send time: the cap, bank holidays, who gets what after a
meeting, how long a failing message is retried, and plan settings in layers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as service
from bot.services.engagements import plans as plan_service
from scheduling.clock import SimulatedClock
from scheduling.rules.plan import PlanError
from store.enums import (
    AttemptOutcome,
    Channel,
    MessageStatus,
    Purpose,
    TaskKind,
)
from store.models import DeliveryAttempt, Expert, Invitation
from tests.builders import add_engagement, add_expert, all_tasks, outbox, say_yes

LONDON = ZoneInfo("Europe/London")


async def _send_at(app: App, clock: SimulatedClock, when: datetime) -> None:
    clock.set(when)
    await app.dispatcher().run_until_idle()


async def test_two_pre_briefs_on_one_day_the_second_waits_but_a_cancellation_does_not(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        first = await add_engagement(app, session, experts=[expert], title="One")
        second = await add_engagement(app, session, experts=[expert], title="Two")
    pre_briefs = await outbox(app, purpose=Purpose.PRE_BRIEF)
    assert pre_briefs[0].due_at == pre_briefs[1].due_at
    await _send_at(app, clock, pre_briefs[0].due_at)
    statuses = sorted(m.status.value for m in await outbox(app, purpose=Purpose.PRE_BRIEF))
    assert statuses == ["pending", "sent"]
    [held] = await outbox(app, purpose=Purpose.PRE_BRIEF, status=MessageStatus.PENDING)
    assert "held until" in (held.status_reason or "")
    assert held.next_attempt_at.astimezone(LONDON).date() > pre_briefs[0].due_at.date()
    async with app.sessions.begin() as session:
        engagement = await service.get_engagement(session, second.id)
        await service.cancel(session, engagement, "venue flooded", now=clock.now(), actor="test")
    await app.dispatcher().run_until_idle()
    [notice] = await outbox(app, purpose=Purpose.CANCELLATION)
    assert notice.status is MessageStatus.SENT  # essential news is never capped
    assert first.id != second.id


@pytest.mark.db_contract
async def test_nothing_is_sent_on_a_scottish_bank_holiday_unless_the_expert_said_so(
    app: App, clock: SimulatedClock
) -> None:
    good_friday = datetime(2026, 4, 3, 10, 0, tzinfo=LONDON)
    async with app.sessions.begin() as session:
        careful = await add_expert(app, session, phone="07123 000001")
        fine = await add_expert(app, session, phone="07123 000002")
        fine.contact_on_bank_holidays = True
        await add_engagement(
            app,
            session,
            experts=[careful, fine],
            starts_at=(good_friday + timedelta(days=7)).astimezone(UTC),
        )
    pre_briefs = await outbox(app, purpose=Purpose.PRE_BRIEF)
    assert {m.due_at for m in pre_briefs} == {good_friday.astimezone(UTC)}
    await _send_at(app, clock, good_friday.astimezone(UTC))
    by_expert = {m.expert_id: m for m in await outbox(app, purpose=Purpose.PRE_BRIEF)}
    assert by_expert[fine.id].status is MessageStatus.SENT
    held = by_expert[careful.id]
    assert held.status is MessageStatus.PENDING
    assert held.next_attempt_at == datetime(2026, 4, 4, 9, 0, tzinfo=LONDON).astimezone(UTC)


async def test_after_the_meeting_only_people_who_came_hear_about_it(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        came = await add_expert(app, session, phone="07123 000001")
        missed = await add_expert(app, session, phone="07123 000002")
        silent = await add_expert(app, session, phone="07123 000003")
        engagement = await add_engagement(app, session, experts=[came, missed, silent])
        for expert in (came, missed):
            await say_yes(app, session, engagement, expert)
        invitation = await session.scalar(
            select(Invitation).where(Invitation.expert_id == missed.id)
        )
        assert invitation is not None
        invitation.attended = False
    check_ins = await outbox(app, purpose=Purpose.CHECK_IN)
    await _send_at(app, clock, max(m.due_at for m in check_ins))
    result = {m.expert_id: m.status for m in await outbox(app, purpose=Purpose.CHECK_IN)}
    assert result == {
        came.id: MessageStatus.SENT,
        missed.id: MessageStatus.SUPPRESSED,  # they get a "missed you" from a person instead
        silent.id: MessageStatus.SUPPRESSED,  # never said yes: no "thanks for Tuesday"
    }


async def test_you_said_we_did_goes_to_those_who_came_once_with_the_outcomes(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        came = await add_expert(app, session, phone="07123 000001", discreet=False)
        missed = await add_expert(app, session, phone="07123 000002")
        engagement = await add_engagement(app, session, experts=[came, missed])
        with pytest.raises(service.EngagementError, match="not finished yet"):
            await service.record_outcomes(session, engagement, "x", now=clock.now(), actor="test")
        await say_yes(app, session, engagement, came)
    clock.set(engagement.ends_at + timedelta(days=5))
    for text in ("The new leaflet uses your words.", "The leaflet now uses your words."):
        async with app.sessions.begin() as session:
            loaded = await service.get_engagement(session, engagement.id)
            await service.record_outcomes(session, loaded, text, now=clock.now(), actor="test")
    [feedback] = await outbox(app, purpose=Purpose.FEEDBACK)
    assert feedback.expert_id == came.id
    await _send_at(app, clock, clock.now())
    [feedback] = await outbox(app, purpose=Purpose.FEEDBACK)
    # Their de-brief went today too: support after the work is not counted by the cap.
    [de_brief] = await outbox(app, purpose=Purpose.DE_BRIEF, expert_id=came.id)
    assert de_brief.status is MessageStatus.SENT
    assert feedback.status is MessageStatus.SENT
    assert "The leaflet now uses your words." in (feedback.body or "")


@pytest.mark.parametrize("text", ["", "   ", "x" * 1001])
async def test_empty_or_huge_outcomes_are_refused_and_nothing_is_planned(
    app: App, clock: SimulatedClock, text: str
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
    clock.set(engagement.ends_at + timedelta(days=1))
    async with app.sessions.begin() as session:
        loaded = await service.get_engagement(session, engagement.id)
        with pytest.raises(service.EngagementError):
            await service.record_outcomes(session, loaded, text, now=clock.now(), actor="test")
    assert await outbox(app, purpose=Purpose.FEEDBACK) == []


async def test_a_cancellation_still_failing_after_an_hour_goes_to_a_person_at_once(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
        await say_yes(app, session, engagement, expert)
        await service.cancel(session, engagement, "room gone", now=clock.now(), actor="test")
    [notice] = await outbox(app, purpose=Purpose.CANCELLATION)
    async with app.sessions.begin() as session:
        # The provider has been failing for just over an hour.
        session.add(
            DeliveryAttempt(
                message_id=notice.id,
                channel=Channel.SMS,
                router_reason="preferred channel",
                outcome=AttemptOutcome.TRANSIENT_FAILURE,
                error="503 from the provider",
                worker="w",
                started_at=clock.now() - timedelta(minutes=61),
                finished_at=clock.now() - timedelta(minutes=61),
            )
        )
    await app.dispatcher().run_until_idle()
    [notice] = await outbox(app, purpose=Purpose.CANCELLATION)
    assert notice.status is MessageStatus.HANDED_TO_PERSON
    assert "an hour" in (notice.status_reason or "")
    calls = [t for t in await all_tasks(app) if t.kind is TaskKind.PHONE_CALL]
    assert calls and all(t.urgent for t in calls)


async def test_a_pre_brief_that_cannot_go_in_time_becomes_a_call_not_silence(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        # Calls are agreed: a pre-brief nothing written can bring in time becomes a call.
        # (Without that consent it is an urgent task for the link worker instead: see
        # tests/integration/scheduling/sending/test_reach.py.)
        expert = await add_expert(
            app,
            session,
            windows=[{"days": "sat", "hours": "10:00-11:00"}],
            fallback_channels="phone",
            consent={"sms": {"allowed": True}, "phone": {"allowed": True}},
        )
        # Starts on a Friday: the only safe hour before it is last Saturday's, now past.
        await add_engagement(
            app,
            session,
            experts=[expert],
            starts_at=datetime(2026, 1, 16, 18, 0, tzinfo=UTC),
        )
    await app.dispatcher().run_until_idle()
    [pre_brief] = await outbox(app, purpose=Purpose.PRE_BRIEF)
    assert pre_brief.status is MessageStatus.HANDED_TO_PERSON
    assert [t.kind for t in await all_tasks(app)] == [TaskKind.PHONE_CALL]


async def test_plan_settings_come_in_layers_and_contradictions_are_refused_when_saved(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        longer = await add_expert(app, session, phone="07123 000001", ref="E-LONG")
        usual = await add_expert(app, session, phone="07123 000002", ref="E-USUAL")
        await plan_service.set_for_kind(
            session, "Panel", {"pre_brief_days": 10}, app.offsets, now=clock.now(), actor="t"
        )
        await plan_service.set_for_expert(
            session, longer, {"pre_brief_days": 14}, app.offsets, now=clock.now(), actor="t"
        )
        with pytest.raises(PlanError, match="reminder must come after the pre-brief"):
            await plan_service.set_for_expert(
                session, usual, {"reminder_days": 12}, app.offsets, now=clock.now(), actor="t"
            )
        with pytest.raises(PlanError, match="clash with the own settings of expert E-LONG"):
            await plan_service.set_for_kind(
                session,
                "panel",
                {"pre_brief_days": 20, "reminder_days": 14},
                app.offsets,
                now=clock.now(),
                actor="t",
            )
        engagement = await add_engagement(
            app, session, experts=[longer, usual], kind="panel", starts_in=timedelta(days=20)
        )
    async with app.sessions() as session:
        fresh = await session.get(Expert, usual.id)
        assert fresh is not None and fresh.plan_overrides == {}
    local_start = engagement.starts_at.astimezone(LONDON).date()
    days_before = {
        m.expert_id: (local_start - m.due_at.astimezone(LONDON).date()).days
        for m in await outbox(app, purpose=Purpose.PRE_BRIEF)
    }
    assert days_before == {longer.id: 14, usual.id: 10}


async def test_changing_one_engagements_offsets_moves_its_unsent_messages(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        engagement = await add_engagement(app, session, experts=[expert])
    async with app.sessions.begin() as session:
        loaded = await service.get_engagement(session, engagement.id)
        with pytest.raises(PlanError):
            await plan_service.set_for_engagement(
                session, loaded, {"reminder_days": 8}, app.offsets, now=clock.now(), actor="t"
            )
    async with app.sessions.begin() as session:
        loaded = await service.get_engagement(session, engagement.id)
        _, report = await plan_service.set_for_engagement(
            session, loaded, {"reminder_days": 2}, app.offsets, now=clock.now(), actor="t"
        )
    assert report.moved == 1
    [reminder] = await outbox(app, purpose=Purpose.REMINDER)
    local_start = engagement.starts_at.astimezone(LONDON).date()
    assert (local_start - reminder.due_at.astimezone(LONDON).date()).days == 2


async def test_a_cancellation_goes_by_the_fastest_channel_not_the_favourite(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            preferred_channel="letter",
            fallback_channels="sms",
            postal_address="Flat 2; 8 Sample Road; Dundee DD1 1AA",
            consent={"letter": {"allowed": True}, "sms": {"allowed": True}},
        )
        engagement = await add_engagement(
            app, session, experts=[expert], starts_in=timedelta(days=9)
        )
        await say_yes(app, session, engagement, expert)
        await service.cancel(session, engagement, "room gone", now=clock.now(), actor="test")
    await _send_at(app, clock, clock.now() + timedelta(hours=2))  # inside safe hours
    [notice] = await outbox(app, purpose=Purpose.CANCELLATION)
    assert notice.status is MessageStatus.SENT and notice.channel is Channel.SMS
    assert "fastest way to reach them" in (notice.status_reason or "")
    pre_briefs = await outbox(app, purpose=Purpose.PRE_BRIEF)
    assert all(m.channel in (None, Channel.LETTER) for m in pre_briefs)  # others keep the favourite
