"""The 24-hour rule, followed through: recording who was told in person or by phone, and
standing the venue visit down only once everyone who needed a call has been told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.engagements.cancellations import ToldResult, cancellation_calls, record_told
from bot.services.engagements.lifecycle import EngagementError
from scheduling.clock import SimulatedClock
from scheduling.people.handoff import open_phone_task_for_cancellation, open_venue_task
from scheduling.people.ledger import lines_for
from store.enums import PaymentPurpose, PaymentStatus, TaskKind, TaskStatus
from store.models import AuditEvent, Engagement, Expert, Invitation, Task
from tests.builders import add_engagement, add_expert


async def _late_cancellation(app: App, clock: SimulatedClock, people: int = 2) -> Engagement:
    """A meeting cancelled five hours before it starts, with ``people`` invited."""
    async with app.sessions.begin() as session:
        experts = [
            await add_expert(
                app, session, ref=f"EX-{n}", preferred_name=f"Person {n}", phone=f"07123 45670{n}"
            )
            for n in range(1, people + 1)
        ]
        meeting = await add_engagement(app, session, experts=experts)
    clock.set(meeting.starts_at - timedelta(hours=5))
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, meeting.id)
        await engagement_service.cancel(
            session, engagement, "venue closed", now=clock.now(), actor="test"
        )
    return meeting


async def _told(app: App, engagement_id: int, ref: str, note: str | None = None) -> ToldResult:
    async with app.sessions.begin() as session:
        engagement = await engagement_service.get_engagement(session, engagement_id)
        expert = await session.scalar(select(Expert).where(Expert.ref == ref))
        assert expert is not None
        return await record_told(
            session, engagement, expert, note=note, now=app.clock.now(), actor="test"
        )


async def _tasks(app: App, kind: TaskKind) -> list[Task]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Task).where(Task.kind == kind).order_by(Task.id)))


async def test_telling_everyone_closes_their_calls_and_then_the_venue_visit(
    app: App, clock: SimulatedClock
) -> None:
    meeting = await _late_cancellation(app, clock)
    calls = await _tasks(app, TaskKind.PHONE_CALL)
    assert len(calls) == 2 and all(t.status is TaskStatus.OPEN for t in calls)
    assert "press \u201cTold by phone\u201d for them on the engagement's page" in (
        calls[0].details or ""
    )
    assert [t.status for t in await _tasks(app, TaskKind.VENUE_VISIT)] == [TaskStatus.OPEN]

    clock.advance(timedelta(minutes=20))
    first = await _told(app, meeting.id, "EX-1", note="rang her at 10, she knew already")
    assert first.outcome.call_task is not None and first.outcome.venue_task is None
    assert len(first.outcome.still_to_phone) == 1
    calls = await _tasks(app, TaskKind.PHONE_CALL)
    assert [(t.status, t.outcome) for t in calls] == [
        (TaskStatus.DONE, "rang her at 10, she knew already"),
        (TaskStatus.OPEN, None),
    ]
    (venue,) = await _tasks(app, TaskKind.VENUE_VISIT)
    assert venue.status is TaskStatus.OPEN  # one person may still turn up not knowing

    second = await _told(app, meeting.id, "EX-2")
    assert second.outcome.venue_task is not None and not second.outcome.still_to_phone
    assert (await _tasks(app, TaskKind.PHONE_CALL))[1].outcome == "told verbally"
    (venue,) = await _tasks(app, TaskKind.VENUE_VISIT)
    assert venue.status is TaskStatus.DONE
    assert venue.outcome == "everyone was told; nobody needs meeting at the venue"
    # The costs still have to be paid back: a line each in the payments ledger.
    async with app.sessions() as session:
        lines = await lines_for(session, engagement_id=meeting.id)
    assert {(line.purpose, line.status) for line in lines} == {
        (PaymentPurpose.CANCELLATION_COSTS, PaymentStatus.OWED)
    }


async def test_the_call_list_shows_who_is_still_to_phone_and_who_was_told_when(
    app: App, clock: SimulatedClock
) -> None:
    meeting = await _late_cancellation(app, clock, people=3)
    clock.advance(timedelta(minutes=10))
    await _told(app, meeting.id, "EX-2")
    async with app.sessions() as session:
        engagement = await engagement_service.get_engagement(session, meeting.id)
        calls = await cancellation_calls(session, engagement)
    assert [i.expert.ref for i in calls.still_to_phone] == ["EX-1", "EX-3"]
    assert [(i.expert.ref, i.told_verbally_at) for i in calls.told] == [("EX-2", clock.now())]
    assert calls.venue is not None


async def test_a_closed_call_task_without_telling_them_still_needs_the_venue(
    app: App, clock: SimulatedClock
) -> None:
    meeting = await _late_cancellation(app, clock)
    async with app.sessions.begin() as session:
        (first, _) = await session.scalars(
            select(Task).where(Task.kind == TaskKind.PHONE_CALL).order_by(Task.id)
        )
        first.status, first.outcome = TaskStatus.DONE, "no answer"
    result = await _told(app, meeting.id, "EX-2")
    assert result.outcome.venue_task is None and len(result.outcome.still_to_phone) == 1
    assert [t.status for t in await _tasks(app, TaskKind.VENUE_VISIT)] == [TaskStatus.OPEN]


async def test_telling_someone_twice_keeps_the_first_time(app: App, clock: SimulatedClock) -> None:
    meeting = await _late_cancellation(app, clock)
    first_time = clock.now()
    await _told(app, meeting.id, "EX-1")
    clock.advance(timedelta(hours=1))
    again = await _told(app, meeting.id, "EX-1", note="again")
    assert again.already_recorded and again.invitation.told_verbally_at == first_time
    assert (await _tasks(app, TaskKind.PHONE_CALL))[0].outcome == "told verbally"


async def test_told_is_audited_without_the_note(app: App, clock: SimulatedClock) -> None:
    meeting = await _late_cancellation(app, clock)
    await _told(app, meeting.id, "EX-1", note="her sister answered")
    async with app.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "invitation.told_verbally")
        )
    assert event is not None and event.entity_id == meeting.id
    assert "sister" not in str(event.data)


async def _told_at(app: App) -> list[object]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Invitation.told_verbally_at)))


async def test_telling_about_an_engagement_that_is_not_cancelled_is_refused(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, ref="EX-1")
        meeting = await add_engagement(app, session, experts=[expert])
    with pytest.raises(EngagementError, match=r"is not cancelled \(published\)"):
        await _told(app, meeting.id, "EX-1")
    assert await _told_at(app) == [None]


async def test_telling_someone_who_was_not_invited_is_refused(
    app: App, clock: SimulatedClock
) -> None:
    meeting = await _late_cancellation(app, clock, people=1)
    async with app.sessions.begin() as session:
        await add_expert(app, session, ref="EX-9", phone="07123 456709")
    with pytest.raises(EngagementError, match="expert EX-9 is not invited"):
        await _told(app, meeting.id, "EX-9")
    assert await _told_at(app) == [None]
    assert [t.status for t in await _tasks(app, TaskKind.PHONE_CALL)] == [TaskStatus.OPEN]


async def test_the_venue_visit_comes_back_if_someone_new_needs_a_call_after_it_was_stood_down(
    app: App, clock: SimulatedClock
) -> None:
    """A cancellation in good time, whose written notices then fail one at a time."""
    async with app.sessions.begin() as session:
        one = await add_expert(app, session, ref="EX-1")
        two = await add_expert(app, session, ref="EX-2", phone="07123 456702")
        meeting = await add_engagement(app, session, experts=[one, two])
        engagement = await engagement_service.get_engagement(session, meeting.id)
        await engagement_service.cancel(session, engagement, "ill", now=clock.now(), actor="t")
    assert await _tasks(app, TaskKind.VENUE_VISIT) == []  # days ahead: the notices will do

    async def notice_failed(expert_id: int) -> None:  # what the dispatcher does then
        async with app.sessions.begin() as session:
            engagement = await engagement_service.get_engagement(session, meeting.id)
            expert = next(i.expert for i in engagement.invitations if i.expert_id == expert_id)
            await open_phone_task_for_cancellation(session, engagement, expert, clock.now())
            await open_venue_task(session, engagement, clock.now())

    await notice_failed(one.id)
    assert (await _told(app, meeting.id, "EX-1")).outcome.venue_task is not None
    assert [t.status for t in await _tasks(app, TaskKind.VENUE_VISIT)] == [TaskStatus.DONE]
    await notice_failed(two.id)
    (venue,) = await _tasks(app, TaskKind.VENUE_VISIT)
    assert venue.status is TaskStatus.OPEN and venue.outcome is None
    assert (await _told(app, meeting.id, "EX-2")).outcome.venue_task is not None
