"""Keeping our word: a message that went out may keep an earlier promise, and what it
promises is followed up at once, by a message or, when none can show it, a task."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people.promises import keep_by_message, link_message, link_task, record_promises
from scheduling.people.task_scripts import person_context, render_task_script, staff_for
from scheduling.people.tasks import open_task
from scheduling.planning.planner import message_key, new_message
from scheduling.rules.plan import PlannedMessage
from scheduling.rules.promises import FOLLOW_UP_AFTER, can_call, details_channels
from scheduling.rules.wording import spoken_datetime
from scheduling.text.context import ABOUT_OUTCOMES, template_context
from store.enums import Channel, Purpose, TaskKind
from store.models import Engagement, Message, Promise


async def keep_word(session: AsyncSession, message: Message, now: datetime) -> None:
    """A message went out: it may keep an earlier promise, and what it promised enters
    the ledger with its follow-up planned at once (a message or a task, never neither)."""
    await keep_by_message(session, message, now)
    for promise in await record_promises(session, message, now):
        if promise.kind in ("details", "outcomes") and message.engagement is not None:
            await _plan_follow_up(session, promise, message, message.engagement, now)


async def _plan_follow_up(
    session: AsyncSession, promise: Promise, message: Message, engagement: Engagement, now: datetime
) -> None:
    """The details on the first agreed channel that may show them, due soon after; or,
    when none can, a task for the link worker to go over them, due by the promise's
    deadline (before the reminder). Either is planned once per engagement and person."""
    expert, outcomes = message.expert, promise.kind == "outcomes"
    if details_channels(expert):
        key = message_key(engagement.id, expert.id, Purpose.DETAILS) + (":outcomes" * outcomes)
        follow_up = await session.scalar(select(Message).where(Message.idempotency_key == key))
        if follow_up is None:
            due = now + FOLLOW_UP_AFTER
            planned = PlannedMessage(Purpose.DETAILS, due, max(promise.due_at, due))
            follow_up = new_message(key, planned, engagement.id, expert.id, now)
            follow_up.variant = ABOUT_OUTCOMES if outcomes else 0
            session.add(follow_up)
            await session.flush()
        await link_message(promise, follow_up, now)
        return
    context = template_context(message, True, now)
    number = next((p.value for p in expert.contact_points if p.channel is Channel.PHONE), "")
    script = render_task_script(
        "go_over_details",
        **{**context, **person_context(expert, now)},
        deadline=spoken_datetime(promise.due_at, expert.time_zone),
        number=number if can_call(expert) else "",
    )
    task = await open_task(
        session,
        kind=TaskKind.GO_OVER_DETAILS,
        title="Tell them what changed" if outcomes else "Go over the details with them",
        details=script,
        assignee=staff_for(expert, now),
        expert=expert,
        engagement=engagement,
        message=message,
        due_at=promise.due_at,
        dedupe_key=f"eng{engagement.id}:exp{expert.id}:go_over_{promise.kind}",
        now=now,
    )
    await link_task(promise, task, now)
