"""The purge follows what administrators chose on the privacy page: message texts and
replies after one period, closed tasks and the audit log after a longer one, and open
tasks never."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.inbox.tasks import close_task
from scheduling.clock import SimulatedClock
from scheduling.maintenance import MaintenanceConfig, retention_in_force
from scheduling.people.tasks import open_task
from store import audit
from store.enums import Channel, Role, TaskKind
from store.models import AuditEvent, OrgSetting, Reply, Task
from tests.builders import add_engagement, add_expert, outbox
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"


async def _choose(app: App, message_days: int, record_days: int) -> None:
    """As an administrator does it: on the privacy page."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Reid", email=ADMIN, role=Role.ADMIN)
    async with signed_in(app, ADMIN) as client:
        saved = await client.post(
            "/admin/privacy",
            {
                "message_days": str(message_days),
                "record_days": str(record_days),
                "leaver_days": str(min(365, record_days)),
            },
        )
    assert saved.status_code == 303


async def test_a_setting_changed_on_the_page_changes_what_the_next_purge_deletes(
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
    await _choose(app, message_days=120, record_days=2190)
    jobs = app.maintenance()  # built from the environment: 90 days
    clock.advance(timedelta(days=91))
    assert await jobs.purge() == 0  # the environment alone would have deleted both
    assert (await outbox(app, id=first.id))[0].body is not None
    clock.advance(timedelta(days=30))
    assert await jobs.purge() == 2
    assert (await outbox(app, id=first.id))[0].body is None
    async with app.sessions() as session:
        assert list(await session.scalars(select(Reply))) == []


async def test_closed_tasks_and_old_audit_events_go_after_the_record_period_open_tasks_never(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        staff = await add_account(app, session, name="Sam Taylor", email="sam@example.org")
        done = await open_task(
            session, kind=TaskKind.PHONE_CALL, title="Done call", now=clock.now(), assignee=staff
        )
        still_open = await open_task(
            session, kind=TaskKind.PHONE_CALL, title="Open call", now=clock.now(), assignee=staff
        )
        await close_task(session, done.id, "spoke to them", clock.now())
    await _choose(app, message_days=90, record_days=365)
    clock.advance(timedelta(days=300))
    async with app.sessions.begin() as session:
        audit.record(
            session, actor="test", action="task.viewed", entity="task", entity_id=1, at=clock.now()
        )
    jobs = app.maintenance()
    assert await jobs.purge() == 0  # nothing is past 365 days yet
    clock.advance(timedelta(days=66))
    async with app.sessions() as session:
        cutoff = clock.now() - timedelta(days=365)
        old_events = len(
            list(await session.scalars(select(AuditEvent).where(AuditEvent.at < cutoff)))
        )
    assert old_events > 0
    deleted = await jobs.purge()
    async with app.sessions() as session:
        tasks = {t.id for t in await session.scalars(select(Task))}
        events = list(await session.scalars(select(AuditEvent)))
    assert tasks == {still_open.id}  # the closed one went; the open one never goes
    assert [e.action for e in events] == ["task.viewed"]  # only the recent event is kept
    assert deleted == 1 + old_events
    clock.advance(timedelta(days=3650))
    await jobs.purge()
    async with app.sessions() as session:
        assert {t.id for t in await session.scalars(select(Task))} == {still_open.id}


async def test_the_database_setting_wins_over_the_environment(app: App) -> None:
    config = MaintenanceConfig(retention=timedelta(days=30), record_retention=timedelta(days=400))
    async with app.sessions.begin() as session:
        assert (await retention_in_force(session, config)).messages == timedelta(days=30)
        session.add(
            OrgSetting(
                key="message_retention_days",
                value={"days": 200},
                updated_at=app.clock.now(),
                updated_by="alex@example.org",
            )
        )
        session.add(
            OrgSetting(
                key="record_retention_days",
                value={"days": "not a number"},
                updated_at=app.clock.now(),
                updated_by="alex@example.org",
            )
        )
        await session.flush()
        chosen = await retention_in_force(session, config)
    assert chosen.messages == timedelta(days=200)
    assert chosen.records == timedelta(days=400)  # an unreadable value falls back
