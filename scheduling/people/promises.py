"""The promise ledger: record what a sent message promised, keep it, and say when it is late.

A promise enters the ledger when its message is sent (the template declared it beside the
words, so the record matches what was said). A later message that went out, or a task a
person closed, keeps it. A promise still open past its deadline alerts the link worker,
their cover while they are away, or the administrators when nobody is at work, once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from scheduling.clock import local_today
from scheduling.people.ledger import costs_settled
from scheduling.people.reply_escalation import escalation_targets
from scheduling.people.staff_alerts import alert_each
from scheduling.rules.promises import promise_deadline
from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import in_sentence
from store.enums import (
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    Purpose,
    TaskStatus,
)
from store.models import Engagement, Expert, Invitation, Message, Promise, Staff, Task

log = logging.getLogger(__name__)

KINDS = ("details", "outcomes", "costs")
# What each promise said, as staff read it in a list.
PROMISE_WORDS = {
    "details": "We said we would send or go over the full details",
    "outcomes": "We said we would tell them what changed because of what they said",
    "costs": "We said any costs they had would be paid back",
}
_SENT = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED})


def promised_kinds(message: Message) -> list[str]:
    """The promises a message's words declared (see ``Rendered.promises``)."""
    return [k for k in (message.promised or "").split(",") if k in KINDS]


async def _reminder_at(session: AsyncSession, message: Message) -> datetime | None:
    if message.engagement_id is None:
        return None
    return await session.scalar(
        select(Message.due_at).where(
            Message.engagement_id == message.engagement_id,
            Message.expert_id == message.expert_id,
            Message.purpose == Purpose.REMINDER,
            Message.status == MessageStatus.PENDING,
        )
    )


async def record_promises(session: AsyncSession, message: Message, now: datetime) -> list[Promise]:
    """The promises this sent message made, each once however often this runs."""
    made: list[Promise] = []
    starts = message.engagement.starts_at if message.engagement is not None else None
    for kind in promised_kinds(message):
        key = f"msg{message.id}:{kind}"
        if await session.scalar(select(Promise.id).where(Promise.dedupe_key == key)):
            continue
        promise = Promise(
            kind=kind,
            expert_id=message.expert_id,
            engagement_id=message.engagement_id,
            message_id=message.id,
            dedupe_key=key,
            made_at=now,
            due_at=promise_deadline(kind, now, starts, await _reminder_at(session, message)),
        )
        session.add(promise)
        # A costs promise is kept when their line in the payments ledger is settled.
        if (
            kind == "costs"
            and message.engagement_id is not None
            and await costs_settled(session, message.expert_id, message.engagement_id)
        ):
            keep(promise, "Settled in the payments ledger", now)
        made.append(promise)
    await session.flush()
    return made


def keep(promise: Promise, how: str, now: datetime) -> None:
    if promise.kept_at is None:
        promise.kept_at, promise.kept_how = now, how[:200]


async def link_message(promise: Promise, follow_up: Message, now: datetime) -> None:
    """The message that will keep it; one already sent keeps it now."""
    promise.follow_up_id = follow_up.id
    if follow_up.status in _SENT:
        keep(
            promise,
            f"Sent by {in_sentence(follow_up.channel)}" if follow_up.channel else "Sent",
            now,
        )


async def link_task(promise: Promise, task: Task, now: datetime) -> None:
    """The task that will keep it; one already done keeps it now."""
    promise.task_id = task.id
    if task.status is TaskStatus.DONE:
        keep(promise, "A person did it (task closed)", now)


async def keep_by_message(session: AsyncSession, message: Message, now: datetime) -> int:
    """A follow-up went out: the promises waiting for it are kept."""
    waiting = await session.scalars(
        select(Promise).where(Promise.follow_up_id == message.id, Promise.kept_at.is_(None))
    )
    kept = 0
    for promise in waiting:
        await link_message(promise, message, now)
        kept += 1
    return kept


async def keep_by_task(session: AsyncSession, task: Task, now: datetime) -> int:
    """A person closed the task: the promises it was opened for are kept."""
    waiting = await session.scalars(
        select(Promise).where(Promise.task_id == task.id, Promise.kept_at.is_(None))
    )
    kept = 0
    for promise in waiting:
        await link_task(promise, task, now)
        kept += 1
    return kept


async def open_promises(session: AsyncSession, expert_id: int) -> list[Promise]:
    return list(
        await session.scalars(
            select(Promise)
            .where(Promise.expert_id == expert_id, Promise.kept_at.is_(None))
            .order_by(Promise.due_at)
            .options(selectinload(Promise.engagement))
        )
    )


def describe(promise: Promise, time_zone: str, now: datetime) -> str:
    """One line for staff: what we said, about what, and by when."""
    about = f" about {promise.engagement.title}" if promise.engagement is not None else ""
    late = "was due" if promise.due_at <= now else "due"
    return (
        f"{PROMISE_WORDS.get(promise.kind, 'We said we would follow up')}{about}: "
        f"{late} by {spoken_datetime(promise.due_at, time_zone)}."
    )


async def _who_to_tell(
    session: AsyncSession, promise: Promise, now: datetime, office_tz: str
) -> list[Staff]:
    """The link worker while at work, else their cover, else the administrators."""
    worker = promise.expert.link_worker
    if worker.active and not worker.is_away(local_today(now, office_tz)):
        return [worker]
    return await escalation_targets(session, worker, now, office_tz)


async def _no_longer_needed(session: AsyncSession, promise: Promise) -> str | None:
    """Details of an engagement that was cancelled, or that they said no to or left, are
    owed to nobody: the promise closes without an alarm (the costs promise never does)."""
    if promise.kind == "costs" or promise.engagement_id is None:
        return None
    engagement = await session.get(Engagement, promise.engagement_id)
    if engagement is not None and engagement.status is EngagementStatus.CANCELLED:
        return "No longer needed: the engagement was cancelled"
    answer = await session.scalar(
        select(Invitation.answer).where(
            Invitation.engagement_id == promise.engagement_id,
            Invitation.expert_id == promise.expert_id,
        )
    )
    if answer is InvitationAnswer.NO or promise.expert.status is ExpertStatus.WITHDRAWN:
        return "No longer needed: they are not taking part"
    return None


async def escalate_overdue(session: AsyncSession, now: datetime, office_tz: str) -> int:
    """Alert someone about every promise past its deadline and not kept; each once."""
    overdue = await session.scalars(
        select(Promise)
        .where(
            Promise.kept_at.is_(None),
            Promise.escalated_at.is_(None),
            Promise.due_at <= now,
        )
        .order_by(Promise.due_at)
        .limit(500)
        .options(
            selectinload(Promise.expert).selectinload(Expert.link_worker).selectinload(Staff.cover)
        )
        .with_for_update(skip_locked=True)
    )
    escalated = 0
    for promise in overdue:
        task = await session.get(Task, promise.task_id) if promise.task_id else None
        follow_up = (
            await session.get(Message, promise.follow_up_id) if promise.follow_up_id else None
        )
        if task is not None and task.status is TaskStatus.DONE:
            await link_task(promise, task, now)
            continue
        if follow_up is not None and follow_up.status in _SENT:
            await link_message(promise, follow_up, now)
            continue
        moot = await _no_longer_needed(session, promise)
        if moot is not None:
            keep(promise, moot, now)
            continue
        targets = await _who_to_tell(session, promise, now, office_tz)
        if not targets:
            log.error("promise %s is overdue and there is nobody to tell", promise.id)
            continue
        await alert_each(
            session,
            targets,
            reason="overdue_promise",
            task=task,
            about=f"promise:{promise.id}",
            now=now,
        )
        promise.escalated_at = now
        escalated += 1
    if escalated:
        log.warning("%d promises passed their deadline; staff alerted", escalated)
    return escalated


async def promise_lines(session: AsyncSession, expert: Expert, now: datetime) -> list[str]:
    """What we told this person we would do and have not done yet, in plain words."""
    return [describe(p, expert.time_zone, now) for p in await open_promises(session, expert.id)]
