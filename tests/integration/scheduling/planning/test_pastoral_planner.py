"""Pastoral contact planned into the outbox: when, how often, and with approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts import pastoral as pastoral_service
from scheduling.clock import SimulatedClock
from scheduling.maintenance import Maintenance
from scheduling.planning.pastoral_planner import plan_pastoral
from store.enums import MessageStatus, PastoralLevel, Purpose, TaskKind, TaskStatus
from store.models import Expert, Message, Staff, Task
from tests.builders import add_engagement, add_expert


async def _expert(
    app: App, level: PastoralLevel, *, joined_days_ago: int = 40, **kw: object
) -> int:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, **kw)
        expert.pastoral_level = level
        expert.created_at = app.clock.now() - timedelta(days=joined_days_ago)
        return expert.id


async def _pastoral(app: App) -> list[Message]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Message).where(Message.purpose == Purpose.PASTORAL).order_by(Message.id)
        )
        return list(rows)


async def _require_approval(app: App) -> None:
    """Their link worker approves each hello a day ahead."""
    async with app.sessions.begin() as session:
        staff = await session.scalar(select(Staff))
        assert staff is not None
        staff.approve_pastoral = True


def _maintenance(app: App) -> Maintenance:
    return app.maintenance()


async def test_a_quiet_spell_brings_one_hello_and_planning_again_adds_nothing(app: App) -> None:
    await _expert(app, PastoralLevel.MONTHLY)
    jobs = _maintenance(app)
    first = await jobs.plan_pastoral()
    again = await jobs.plan_pastoral()
    assert first is not None and first.planned == 1
    assert again is not None and again.planned == 0
    [hello] = await _pastoral(app)
    assert hello.status is MessageStatus.PENDING and not hello.needs_approval


async def test_it_goes_from_their_link_worker_by_name_in_varied_words(
    app: App, clock: SimulatedClock
) -> None:
    await _expert(app, PastoralLevel.MONTHLY)
    jobs = _maintenance(app)
    bodies = []
    for _ in range(3):
        await jobs.plan_pastoral()
        pending = [m for m in await _pastoral(app) if m.status is MessageStatus.PENDING]
        assert len(pending) == 1
        clock.set(pending[0].due_at)
        await app.dispatcher().run_until_idle()
        sent = (await _pastoral(app))[-1]
        assert sent.status is MessageStatus.SENT
        bodies.append(sent.body or "")
        clock.advance(timedelta(days=27))  # a month of nothing else
    assert all("it's Sam" in b or "Sam here" in b for b in bodies)
    assert len(set(bodies)) == 3  # never the same words twice running
    variants = [m.variant for m in await _pastoral(app)]
    assert variants == [0, 1, 2]


async def test_no_hello_when_there_was_other_contact_recently_or_some_is_coming(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        expert.pastoral_level = PastoralLevel.FORTNIGHTLY
        expert.created_at = clock.now() - timedelta(days=60)
        await add_engagement(app, session, experts=[expert], starts_in=timedelta(days=3))
    report = await _maintenance(app).plan_pastoral()
    assert report is not None and report.planned == 0 and report.skipped_contact_soon == 1


async def test_paused_off_and_withdrawn_experts_get_no_pastoral_messages(
    app: App, clock: SimulatedClock
) -> None:
    paused = await _expert(app, PastoralLevel.WEEKLY, phone="07123 000001")
    await _expert(app, PastoralLevel.OFF, phone="07123 000002")
    async with app.sessions.begin() as session:
        found = await session.get(Expert, paused)
        assert found is not None
        found.paused_until = (clock.now() + timedelta(days=30)).date()
    report = await _maintenance(app).plan_pastoral()
    assert report is not None and report.planned == 0


async def test_a_draft_needing_approval_is_a_task_a_day_ahead_and_unapproved_is_not_sent(
    app: App, clock: SimulatedClock
) -> None:
    await _expert(app, PastoralLevel.MONTHLY)
    await _require_approval(app)
    await _maintenance(app).plan_pastoral()
    [draft] = await _pastoral(app)
    assert draft.needs_approval and draft.due_at >= clock.now() + timedelta(hours=23)
    async with app.sessions() as session:
        [task] = list(await session.scalars(select(Task)))
    assert task.kind is TaskKind.APPROVE_PASTORAL
    assert "Approve it on this page" in (task.details or "") and "linkline" not in task.details
    clock.set(draft.due_at)
    await app.dispatcher().run_until_idle()
    [draft] = await _pastoral(app)
    assert draft.status is MessageStatus.SUPPRESSED
    assert "did not approve" in (draft.status_reason or "")
    async with app.sessions() as session:
        task = await session.get(Task, task.id)
        assert task is not None and task.status is TaskStatus.CANCELLED


@pytest.mark.parametrize("named", [True, False], ids=["approver-named", "their-link-worker"])
async def test_an_approved_draft_goes_with_the_link_workers_own_line(
    app: App, clock: SimulatedClock, named: bool
) -> None:
    await _expert(app, PastoralLevel.MONTHLY)
    await _require_approval(app)
    await _maintenance(app).plan_pastoral()
    [draft] = await _pastoral(app)
    async with app.sessions.begin() as session:
        staff = await session.scalar(select(Staff))
        assert staff is not None
        await pastoral_service.approve(
            session,
            draft.id,
            staff if named else None,
            "Thanks again for your ideas on the new leaflet.",
            now=clock.now(),
            actor="test",
        )
    clock.set(draft.due_at)
    await app.dispatcher().run_until_idle()
    [sent] = await _pastoral(app)
    assert sent.status is MessageStatus.SENT
    assert "Thanks again for your ideas on the new leaflet." in (sent.body or "")


async def test_turning_the_level_down_withdraws_a_planned_hello_at_once(
    app: App, clock: SimulatedClock
) -> None:
    expert_id = await _expert(app, PastoralLevel.MONTHLY)
    await _require_approval(app)
    await _maintenance(app).plan_pastoral()
    async with app.sessions.begin() as session:
        expert = await session.get(Expert, expert_id)
        assert expert is not None
        withdrawn = await pastoral_service.set_contact_level(
            session, expert, PastoralLevel.OFF, min_days=7, now=clock.now(), actor="test"
        )
    assert withdrawn == 1
    assert [m.status for m in await _pastoral(app)] == [MessageStatus.CANCELLED]
    async with app.sessions() as session:
        [task] = list(await session.scalars(select(Task)))
    assert task.status is TaskStatus.CANCELLED  # nothing left for the link worker to approve


async def test_a_hello_still_waiting_to_go_means_no_second_one_even_long_after(
    app: App, clock: SimulatedClock
) -> None:
    """A held hello (a worrying reply, say) stays pending past its month: planning for
    that person, even from a list of candidates made before, must not add another."""
    expert_id = await _expert(app, PastoralLevel.MONTHLY)
    for expected in (1, 0):
        async with app.sessions.begin() as session:
            report = await plan_pastoral(session, clock.now(), min_days=7, expert_ids=[expert_id])
        assert report.planned == expected
        clock.advance(timedelta(days=40))
    [hello] = await _pastoral(app)
    assert hello.status is MessageStatus.PENDING
