"""The housekeeping jobs: texts deleted after the retention period, tasks to cover."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.staff.accounts import set_cover
from scheduling.clock import SimulatedClock
from scheduling.job_lock import try_job_lock
from scheduling.people.tasks import open_task
from store.enums import Channel, MessageStatus, Role, TaskKind
from store.models import AuditEvent, Reply, Task
from tests.builders import add_engagement, add_expert, add_staff, outbox


async def test_message_texts_and_replies_are_deleted_after_retention_and_facts_kept(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        await add_engagement(app, session, experts=[expert])
    first = (await outbox(app))[0]
    clock.set(first.due_at)
    await app.dispatcher().run_until_idle()
    async with app.sessions.begin() as session:
        session.add(
            Reply(expert_id=expert.id, channel=Channel.SMS, body="yes", received_at=clock.now())
        )
    jobs = app.maintenance()
    assert await jobs.purge() == 0  # nothing is old enough yet
    clock.advance(timedelta(days=91))
    assert await jobs.purge() == 2
    sent = (await outbox(app, id=first.id))[0]
    assert sent.status is MessageStatus.SENT and sent.sent_at is not None
    assert sent.body is None and sent.subject is None
    async with app.sessions() as session:
        assert list(await session.scalars(select(Reply))) == []
        assert list(await session.scalars(select(AuditEvent)))  # the audit trail stays


async def test_open_tasks_of_someone_now_away_go_to_their_cover(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        sam = await add_staff(session, now=clock.now())
        jo = await add_staff(session, "Jo Reid", "jo@example.org", Role.LINK_WORKER, clock.now())
        task = await open_task(
            session,
            kind=TaskKind.PHONE_CALL,
            title="Phone call to make",
            now=clock.now(),
            assignee=sam,
        )
        today = clock.now().date()
        await set_cover(
            session, sam, jo, today, today + timedelta(days=4), now=clock.now(), actor="test"
        )
    jobs = app.maintenance()
    assert await jobs.hand_tasks_to_cover() == 1
    assert await jobs.hand_tasks_to_cover() == 0
    async with app.sessions() as session:
        moved = await session.get(Task, task.id)
        assert moved is not None and moved.assignee_id == jo.id


@pytest.mark.db_contract
async def test_with_several_workers_only_one_runs_a_planning_job_at_a_time(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs a single worker, so there is nothing to share")
    async with app.sessions.begin() as first, app.sessions.begin() as second:
        assert await try_job_lock(first, "plan_pastoral")
        assert not await try_job_lock(second, "plan_pastoral")
        assert await try_job_lock(second, "purge")  # a different job is free
    async with app.sessions.begin() as later:
        assert await try_job_lock(later, "plan_pastoral")  # released at commit


async def test_the_worker_runs_every_maintenance_job_on_its_timer(app: App) -> None:
    worker = app.worker()
    worker.start()
    try:
        assert worker._scheduler is not None
        ids = {job.id for job in worker._scheduler.get_jobs()}
    finally:
        await worker.stop()
    assert {"plan_pastoral", "open_followups", "hand_tasks_to_cover", "purge"} <= ids
