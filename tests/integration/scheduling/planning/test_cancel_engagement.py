"""Cancelling an engagement tidies up: work about its earlier messages is closed with a
note saying why, while the calls the cancellation needs, and anything about a reply, stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from scheduling.clock import SimulatedClock
from scheduling.people.tasks import open_task
from store.enums import MessageStatus, Purpose, TaskKind, TaskStatus
from store.models import Engagement, Task
from tests.builders import add_engagement, add_expert, all_tasks, outbox

PHONE_ONLY = {
    "preferred_channel": "phone",
    "consent": {"phone": {"allowed": True}},
}


async def _phoned_pre_brief(app: App, clock: SimulatedClock) -> Engagement:
    """Ana takes calls only: her pre-brief for the workshop became a call to make. She is
    also invited to a second meeting, whose work must not be touched."""
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, **PHONE_ONLY)
        workshop = await add_engagement(app, session, experts=[ana])
        await add_engagement(
            app, session, experts=[ana], title="Leaflet panel", starts_in=timedelta(days=12)
        )
    pre_briefs = await outbox(app, purpose=Purpose.PRE_BRIEF)
    pre_brief = next(m for m in pre_briefs if m.engagement_id == workshop.id)
    clock.set(max(m.due_at for m in pre_briefs) + timedelta(minutes=1))
    await app.dispatcher().run_until_idle()
    async with app.sessions.begin() as session:
        # A reply about the workshop, waiting to be read: about what Ana said, not a message.
        await open_task(
            session,
            kind=TaskKind.READ_REPLY,
            title="Something to read",
            assignee=None,
            engagement=workshop,
            message=pre_brief,
            now=clock.now(),
        )
    return workshop


async def _cancel(app: App, engagement: Engagement) -> None:
    async with app.sessions.begin() as session:
        loaded = await engagement_service.get_engagement(session, engagement.id)
        await engagement_service.cancel(
            session, loaded, "the venue flooded", now=app.clock.now(), actor="test"
        )


async def test_a_late_cancellation_closes_the_old_pre_brief_call_beside_the_new_urgent_one(
    app: App, clock: SimulatedClock
) -> None:
    workshop = await _phoned_pre_brief(app, clock)
    before = [t for t in await all_tasks(app) if t.kind is TaskKind.PHONE_CALL]
    assert len(before) == 2  # the pre-brief calls for both meetings
    old_call = next(t for t in before if t.engagement_id == workshop.id)
    clock.set(workshop.starts_at - timedelta(hours=5))
    await _cancel(app, workshop)

    tasks = {t.id: t for t in await all_tasks(app)}
    closed = tasks[old_call.id]
    assert closed.status is TaskStatus.CANCELLED
    assert closed.done_at == clock.now()
    day = workshop.starts_at.strftime("%-d %B %Y")
    assert closed.outcome == f"The engagement was cancelled on {day}, so this is no longer needed."

    still_open = [t for t in tasks.values() if t.status is TaskStatus.OPEN]
    kinds = sorted((t.kind.value, t.engagement_id == workshop.id, t.urgent) for t in still_open)
    assert kinds == [
        ("phone_call", False, False),  # the other meeting's pre-brief call is untouched
        ("phone_call", True, True),  # the urgent call about the cancellation
        ("read_reply", True, False),  # what Ana wrote still needs reading
        ("venue_visit", True, True),
    ]


async def test_cancelling_early_closes_a_failed_send_and_the_notice_work_stays(
    app: App, clock: SimulatedClock
) -> None:
    workshop = await _phoned_pre_brief(app, clock)
    await _cancel(app, workshop)  # days ahead: the written notice is enough
    notices = await outbox(app, engagement_id=workshop.id, purpose=Purpose.CANCELLATION)
    assert [m.status for m in notices] == [MessageStatus.PENDING]
    # The notice itself goes by phone too: that call is new work, opened after, and stays.
    await app.dispatcher().run_until_idle()
    async with app.sessions() as session:
        rows = list(
            await session.scalars(
                select(Task).where(
                    Task.engagement_id == workshop.id, Task.kind == TaskKind.PHONE_CALL
                )
            )
        )
    by_status = sorted((t.status.value, t.title) for t in rows)
    assert by_status == [
        ("cancelled", "Phone call to make"),
        ("open", "Phone about a cancellation: the written notice cannot be relied on"),
    ]
