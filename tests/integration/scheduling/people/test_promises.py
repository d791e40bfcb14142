"""The promise ledger through the real dispatcher: what a discreet pre-brief promises is
kept by a details message or a person's task, and a promise nobody keeps reaches staff."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagements
from bot.services.engagements.attendance import record_attendance
from bot.services.inbox.tasks import close_task
from scheduling.clock import SimulatedClock
from scheduling.people import ledger
from scheduling.planning.planner import load_engagement, replan_engagement
from store.enums import Channel, MessageStatus, Purpose, Role, TaskKind, TaskStatus
from store.models import Message, Promise, Staff, StaffAlert, Task
from tests.builders import add_engagement, add_expert, add_staff, outbox

# The ledger locks overdue promises (FOR UPDATE SKIP LOCKED): proven on both databases.
pytestmark = pytest.mark.db_contract

SMS_AND_SAFE_EMAIL: dict[str, Any] = {
    "fallback_channels": "email",
    "email": "ana@example.net",
    "consent": {"sms": {"allowed": True}, "email": {"allowed": True, "details_safe": True}},
}
SMS_AND_PHONE: dict[str, Any] = {
    "fallback_channels": "phone",
    "consent": {"sms": {"allowed": True}, "phone": {"allowed": True}},
}


async def _invited(app: App, **expert: Any) -> tuple[int, int]:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, **expert)
        engagement = await add_engagement(app, session, experts=[ana])
        return ana.id, engagement.id


async def _send_pre_brief(app: App, clock: SimulatedClock) -> Message:
    pre_brief = (await outbox(app, purpose=Purpose.PRE_BRIEF))[0]
    clock.set(pre_brief.due_at)
    await app.dispatcher().run_until_idle()
    sent = (await outbox(app, id=pre_brief.id))[0]
    assert sent.status is MessageStatus.SENT and sent.channel is Channel.SMS
    return sent


async def _promises(app: App) -> list[Promise]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Promise).order_by(Promise.id)))


def _sent_files(app: App, channel: str) -> list[Path]:
    return sorted(p for p in app.settings.resolved_outbox_dir.rglob(f"*{channel}*") if p.is_file())


async def test_a_discreet_text_promising_the_details_is_kept_by_a_details_email(
    app: App, clock: SimulatedClock
) -> None:
    await _invited(app, **SMS_AND_SAFE_EMAIL)
    pre_brief = await _send_pre_brief(app, clock)
    assert "I'll go over the details with you the way we agreed." in (pre_brief.body or "")
    assert "First contact workshop" not in (pre_brief.body or "")  # discreet on the lock screen
    [promise] = await _promises(app)
    assert promise.kind == "details" and promise.kept_at is None
    [details] = await outbox(app, purpose=Purpose.DETAILS)
    assert details.due_at <= pre_brief.sent_at + timedelta(minutes=10)  # type: ignore[operator]
    clock.set(details.due_at)
    await app.dispatcher().run_until_idle()
    details = (await outbox(app, id=details.id))[0]
    assert details.status is MessageStatus.SENT and details.channel is Channel.EMAIL
    text = details.body or ""
    assert "Leith Community Centre" in text and "Bus or taxi fares" in text
    assert "the way we agreed" not in text  # the details promise nothing more
    [promise] = await _promises(app)
    assert promise.kept_at is not None and promise.kept_how == "Sent by email"
    async with app.sessions() as session:
        assert (
            await session.scalar(select(Task.id).where(Task.kind == TaskKind.GO_OVER_DETAILS))
            is None
        )


async def test_with_no_safe_channel_for_details_the_link_worker_gets_a_task_before_the_reminder(
    app: App, clock: SimulatedClock
) -> None:
    await _invited(app, **SMS_AND_PHONE)
    await _send_pre_brief(app, clock)
    [reminder] = await outbox(app, purpose=Purpose.REMINDER)
    assert await outbox(app, purpose=Purpose.DETAILS) == []
    async with app.sessions() as session:
        [task] = list(
            await session.scalars(select(Task).where(Task.kind == TaskKind.GO_OVER_DETAILS))
        )
        assignee = await session.get(Staff, task.assignee_id)
    assert assignee is not None and assignee.email == "sam@example.org"
    assert task.due_at is not None and task.due_at <= reminder.due_at
    script = task.details or ""
    assert "go over the details of First contact workshop" in script
    assert "Safe times:" in script and "Leith Community Centre" in script
    assert "Number: +447123456789" in script
    [promise] = await _promises(app)
    assert promise.task_id == task.id and promise.kept_at is None
    async with app.sessions.begin() as session:
        assert await close_task(session, task.id, "went through it all", clock.now())
    [promise] = await _promises(app)
    assert promise.kept_at is not None and "task closed" in (promise.kept_how or "")


async def test_a_text_never_promises_what_nothing_could_keep(
    app: App, clock: SimulatedClock
) -> None:
    await _invited(app)  # a text message only: no safe channel for details, no calls agreed
    pre_brief = await _send_pre_brief(app, clock)
    assert "details" not in (pre_brief.body or "")
    assert "Just a note that" in (pre_brief.body or "")
    assert await _promises(app) == []


async def test_planning_again_never_duplicates_the_follow_up(
    app: App, clock: SimulatedClock
) -> None:
    _, engagement_id = await _invited(app, **SMS_AND_SAFE_EMAIL)
    await _send_pre_brief(app, clock)
    for _ in range(2):
        async with app.sessions.begin() as session:
            engagement = await load_engagement(session, engagement_id)
            assert engagement is not None
            await replan_engagement(session, engagement, app.offsets, clock.now())
        await app.dispatcher().run_until_idle()
    async with app.sessions.begin() as session:
        engagement = await engagements.get_engagement(session, engagement_id)
        later = engagement.starts_at + timedelta(days=1)
        await engagements.move(
            session, engagement, later, later + timedelta(hours=2), app.offsets,
            now=clock.now(), actor="test",
        )  # fmt: skip
    clock.set(clock.now() + timedelta(hours=1))
    await app.dispatcher().run_until_idle()
    assert len(await outbox(app, purpose=Purpose.DETAILS)) == 1
    assert len(await _promises(app)) == 1


async def test_an_unkept_promise_past_its_deadline_alerts_the_link_worker_once(
    app: App, clock: SimulatedClock
) -> None:
    await _invited(app, **SMS_AND_PHONE)
    await _send_pre_brief(app, clock)
    [promise] = await _promises(app)
    clock.set(promise.due_at - timedelta(minutes=1))
    assert await app.maintenance().escalate_promises() == 0  # not late yet
    clock.set(promise.due_at + timedelta(minutes=1))
    assert await app.maintenance().escalate_promises() == 1
    assert await app.maintenance().escalate_promises() == 0  # once
    async with app.sessions() as session:
        alerts = list(await session.scalars(select(StaffAlert)))
        staff = await session.get(Staff, alerts[0].staff_id)
    assert [a.reason for a in alerts] == ["overdue_promise"]
    assert staff is not None and staff.email == "sam@example.org"
    await app.staff_alerts().send_due()
    [mail] = [
        p
        for p in app.settings.resolved_outbox_dir.rglob("*")
        if p.is_file() and "sam@example.org" in p.read_text(errors="ignore")
    ]
    body = mail.read_text(errors="ignore")
    assert "we told someone we would follow up" in body and "Ana" not in body


async def test_while_the_link_worker_is_away_their_cover_hears_and_with_nobody_at_work_the_admins(
    app: App, clock: SimulatedClock
) -> None:
    await _invited(app, **SMS_AND_PHONE)
    await _send_pre_brief(app, clock)
    [promise] = await _promises(app)
    late = promise.due_at + timedelta(minutes=1)
    async with app.sessions.begin() as session:
        sam = await add_staff(session)
        jo = await add_staff(session, name="Jo Reid", email="jo@example.org")
        await add_staff(session, name="Ali Khan", email="ali@example.org", role=Role.ADMIN)
        sam.away_from, sam.away_until = (
            late.date() - timedelta(days=1),
            late.date() + timedelta(days=1),
        )
        sam.cover_id = jo.id
    clock.set(late)
    assert await app.maintenance().escalate_promises() == 1
    async with app.sessions() as session:
        told = {
            (await session.get(Staff, a.staff_id)).email  # type: ignore[union-attr]
            for a in await session.scalars(select(StaffAlert))
        }
    assert told == {"jo@example.org"}
    # A second promise, and this time the cover is away too: the administrators hear.
    async with app.sessions.begin() as session:
        jo = await session.scalar(select(Staff).where(Staff.email == "jo@example.org"))
        assert jo is not None
        jo.away_from, jo.away_until = date(2000, 1, 1), date(2100, 1, 1)
        await session.execute(Promise.__table__.update().values(escalated_at=None))
        await session.execute(StaffAlert.__table__.delete())
    assert await app.maintenance().escalate_promises() == 1
    async with app.sessions() as session:
        told = {
            (await session.get(Staff, a.staff_id)).email  # type: ignore[union-attr]
            for a in await session.scalars(select(StaffAlert))
        }
    assert told == {"ali@example.org"}


async def test_a_closed_task_or_a_sent_follow_up_keeps_the_promise_even_if_found_late(
    app: App, clock: SimulatedClock
) -> None:
    """A task closed another way (not through the tasks list) still counts at the deadline."""
    await _invited(app, **SMS_AND_PHONE)
    await _send_pre_brief(app, clock)
    [promise] = await _promises(app)
    async with app.sessions.begin() as session:
        task = await session.get(Task, promise.task_id)
        assert task is not None
        task.status, task.done_at = TaskStatus.DONE, clock.now()
    clock.set(promise.due_at + timedelta(hours=1))
    assert await app.maintenance().escalate_promises() == 0
    [promise] = await _promises(app)
    assert promise.kept_at is not None


async def test_a_discreet_you_said_we_did_is_followed_by_what_changed_on_a_safe_channel(
    app: App, clock: SimulatedClock
) -> None:
    ana_id, engagement_id = await _invited(app, **SMS_AND_SAFE_EMAIL)
    async with app.sessions.begin() as session:
        engagement = await engagements.get_engagement(session, engagement_id)
        clock.set(engagement.ends_at + timedelta(days=1))
        ana = next(i.expert for i in engagement.invitations if i.expert_id == ana_id)
        await record_attendance(session, engagement, ana, True, now=clock.now(), actor="test")
        await engagements.record_outcomes(
            session, engagement, "The helpline now opens on Saturdays.", now=clock.now(), actor="t"
        )
    [feedback] = await outbox(app, purpose=Purpose.FEEDBACK)
    clock.set(max(clock.now(), feedback.next_attempt_at))
    await app.dispatcher().run_until_idle()
    feedback = (await outbox(app, id=feedback.id))[0]
    assert feedback.status is MessageStatus.SENT and feedback.channel is Channel.SMS
    assert "I'd love to tell you about it the way we agreed." in (feedback.body or "")
    [details] = await outbox(app, purpose=Purpose.DETAILS)
    clock.set(details.next_attempt_at + timedelta(hours=2))
    await app.dispatcher().run_until_idle()
    details = (await outbox(app, id=details.id))[0]
    assert details.status is MessageStatus.SENT and details.channel is Channel.EMAIL
    assert "The helpline now opens on Saturdays." in (details.body or "")
    outcomes = [p for p in await _promises(app) if p.kind == "outcomes"]
    assert len(outcomes) == 1 and outcomes[0].kept_at is not None


async def test_costs_promised_in_a_cancellation_are_kept_when_the_costs_are_paid(
    app: App, clock: SimulatedClock
) -> None:
    _, engagement_id = await _invited(app)
    async with app.sessions.begin() as session:
        engagement = await engagements.get_engagement(session, engagement_id)
        await engagements.cancel(session, engagement, "room lost", now=clock.now(), actor="t")
    [notice] = await outbox(app, purpose=Purpose.CANCELLATION)
    for _ in range(2):  # held once if it is outside their safe hours
        clock.set(max(clock.now(), notice.next_attempt_at))
        await app.dispatcher().run_until_idle()
        notice = (await outbox(app, id=notice.id))[0]
    assert notice.status is MessageStatus.SENT and "will be paid back" in (notice.body or "")
    [promise] = await _promises(app)
    assert promise.kind == "costs" and promise.kept_at is None
    async with app.sessions.begin() as session:
        [line] = await ledger.lines_for(session, engagement_id=engagement_id)
        await ledger.change_amount(session, line, 640, "bus fares", now=clock.now(), actor="t")
        await ledger.approve(session, line, now=clock.now(), actor="t")
    [promise] = await _promises(app)
    assert promise.kept_at is None  # approved is not yet paid
    async with app.sessions.begin() as session:
        [line] = await ledger.lines_for(session, engagement_id=engagement_id)
        await ledger.mark_paid(session, line, now=clock.now(), actor="t")
    [promise] = await _promises(app)
    assert promise.kept_at is not None and promise.kept_how == "Paid"


async def test_details_owed_for_a_cancelled_engagement_raise_no_alarm(
    app: App, clock: SimulatedClock
) -> None:
    _, engagement_id = await _invited(app, **SMS_AND_SAFE_EMAIL)
    await _send_pre_brief(app, clock)
    async with app.sessions.begin() as session:
        engagement = await engagements.get_engagement(session, engagement_id)
        await engagements.cancel(session, engagement, "room lost", now=clock.now(), actor="t")
    [details] = await outbox(app, purpose=Purpose.DETAILS)
    assert details.status is MessageStatus.CANCELLED
    [promise] = [p for p in await _promises(app) if p.kind == "details"]
    clock.set(promise.due_at + timedelta(minutes=1))
    await app.maintenance().escalate_promises()
    async with app.sessions() as session:
        assert list(await session.scalars(select(StaffAlert))) == []
    [promise] = [p for p in await _promises(app) if p.kind == "details"]
    assert promise.kept_how == "No longer needed: the engagement was cancelled"
