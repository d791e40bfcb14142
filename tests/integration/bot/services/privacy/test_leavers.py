"""Retention after leaving: the daily purge erases the record of someone who left once the
period on the Privacy page has passed, unless a task about them is still open or a payment
to them unsettled; then their link worker is told why it is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.experts.leaving import withdraw_expert
from bot.services.inbox.tasks import close_task
from scheduling.clock import SimulatedClock
from scheduling.maintenance import retention_in_force
from store.enums import PaymentPurpose, PaymentStatus, Role, TaskKind, TaskStatus
from store.models import AuditEvent, Expert, Invitation, OrgSetting, PaymentLine, Staff, Task
from tests.builders import add_engagement, add_expert, add_staff
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"


async def _withdrawn(app: App, *, close_exit_task: bool = True, engagement: bool = False) -> int:
    """Ana, who left today; her exit conversation done unless asked otherwise."""
    now = app.clock.now()
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session)
        if engagement:
            await add_engagement(app, session, experts=[ana])
        sam = await add_staff(session)
        retention = await retention_in_force(session, app.maintenance().config)
        left = await withdraw_expert(
            session,
            ana.id,
            reason="Moving away",
            by=sam,
            goodbye=None,
            retention=retention,
            now=now,
            actor="test",
        )
        if close_exit_task:
            await close_task(session, left.exit_task.id, "We talked; she is glad.", now, sam)
        return ana.id


async def _expert(app: App, expert_id: int) -> Expert | None:
    async with app.sessions() as session:
        return await session.get(Expert, expert_id)


async def _kept_tasks(app: App) -> list[Task]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Task).where(Task.title == "A record kept after leaving")
        )
        return list(rows)


async def test_a_leaver_is_erased_once_the_period_has_passed_and_not_before(
    app: App, clock: SimulatedClock
) -> None:
    ana = await _withdrawn(app)
    jobs = app.maintenance()
    clock.advance(timedelta(days=364))
    await jobs.purge()
    assert await _expert(app, ana) is not None  # a year is the starting setting
    clock.advance(timedelta(days=2))
    await jobs.purge()
    assert await _expert(app, ana) is None
    async with app.sessions() as session:
        erased = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "expert.erased")
        )
        tasks = list(await session.scalars(select(Task)))
    assert erased is not None and erased.entity_id == ana and "retention" in erased.actor
    assert tasks == []  # everything about her went with the record


async def test_an_open_task_keeps_the_record_and_her_link_worker_is_told_why(
    app: App, clock: SimulatedClock
) -> None:
    ana = await _withdrawn(app, close_exit_task=False)
    jobs = app.maintenance()
    clock.advance(timedelta(days=366))
    await jobs.purge()
    await jobs.purge()  # the next day says it once, not twice
    assert await _expert(app, ana) is not None
    [kept] = await _kept_tasks(app)
    assert kept.status is TaskStatus.OPEN and kept.kind is TaskKind.EXPERT_LEFT
    assert "1 open task about them" in (kept.details or "")
    assert "None" not in (kept.details or "")
    async with app.sessions.begin() as session:
        sam = await session.scalar(select(Staff).where(Staff.id == kept.assignee_id))
        assert sam is not None and sam.name == "Sam Taylor"
        exit_task = await session.scalar(
            select(Task).where(Task.kind == TaskKind.EXIT_CONVERSATION)
        )
        assert exit_task is not None
        await close_task(session, exit_task.id, "We talked in the end.", clock.now(), sam)
    clock.advance(timedelta(days=1))
    await jobs.purge()
    assert await _expert(app, ana) is None
    assert await _kept_tasks(app) == []


async def test_an_unpaid_payment_keeps_the_record_until_it_is_settled(
    app: App, clock: SimulatedClock
) -> None:
    ana = await _withdrawn(app, engagement=True)
    async with app.sessions.begin() as session:
        invitation = await session.scalar(select(Invitation).where(Invitation.expert_id == ana))
        assert invitation is not None
        session.add(
            PaymentLine(
                invitation_id=invitation.id,
                purpose=PaymentPurpose(next(iter(PaymentPurpose)).value),
                status=PaymentStatus.APPROVED,
                amount_pence=2500,
                created_at=clock.now(),
                created_by="sam@example.org",
                approved_at=clock.now(),
                approved_by="sam@example.org",
            )
        )
    jobs = app.maintenance()
    clock.advance(timedelta(days=400))
    await jobs.purge()
    assert await _expert(app, ana) is not None
    [kept] = await _kept_tasks(app)
    assert "1 payment not yet paid or declined" in (kept.details or "")
    async with app.sessions.begin() as session:
        line = await session.scalar(select(PaymentLine))
        assert line is not None
        line.status, line.paid_at, line.paid_by = PaymentStatus.PAID, clock.now(), "finance"
    await jobs.purge()
    assert await _expert(app, ana) is None


async def test_the_period_chosen_on_the_page_is_the_one_the_purge_and_the_exit_script_use(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Reid", email=ADMIN, role=Role.ADMIN)
    async with signed_in(app, ADMIN) as client:
        page = await client.get("/admin/privacy")
        assert 'name="leaver_days" type="text" value="365"' in page.text
        saved = await client.post(
            "/admin/privacy", {"message_days": "90", "record_days": "2190", "leaver_days": "60"}
        )
        assert saved.status_code == 303
        after = await client.get("/admin/privacy")
    assert "how long the record of someone who left is kept" in after.text
    ana = await _withdrawn(app)
    async with app.sessions() as session:
        exit_task = await session.scalar(
            select(Task).where(Task.kind == TaskKind.EXIT_CONVERSATION)
        )
    assert exit_task is not None
    assert "their record until 13 March 2026, when it is erased" in (exit_task.details or "")
    clock.advance(timedelta(days=61))
    await app.maintenance().purge()
    assert await _expert(app, ana) is None


@pytest.mark.parametrize(
    ("leaver_days", "message"),
    [
        ("", "Enter how many days the record of someone who left is kept"),
        ("a year", "Enter a whole number of days, such as 365"),
        ("-5", "Enter a whole number of days"),
        ("29", "for at least 30 days"),
        ("2191", "for at most 2190 days, as long as tasks and the audit log"),
        ("9999999", "Enter a whole number of days"),
    ],
)
async def test_a_bad_leavers_period_is_explained_and_nothing_is_saved(
    app: App, leaver_days: str, message: str
) -> None:
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Reid", email=ADMIN, role=Role.ADMIN)
    async with signed_in(app, ADMIN) as client:
        page = await client.post(
            "/admin/privacy",
            {"message_days": "120", "record_days": "2190", "leaver_days": leaver_days},
        )
    assert page.status_code == 400
    assert 'id="leaver_days-error"' in page.text and message in page.text
    assert f'name="leaver_days" type="text" value="{leaver_days}"' in page.text or not leaver_days
    async with app.sessions() as session:
        assert list(await session.scalars(select(OrgSetting))) == []
