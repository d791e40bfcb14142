"""What an engagement's change of time, cancellation or end means for its messages.

Moving an engagement moves its unsent messages and tells anyone who heard the old time;
cancelling it cancels them, tells everyone who might come, and opens the work the
24-hour rule needs; once it is over, people who came get a "you said, we did" message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people.handoff import open_phone_task_for_cancellation, open_venue_task
from scheduling.people.ledger import open_cancellation_costs
from scheduling.people.tasks import close_obsolete_tasks
from scheduling.planning.planner import (
    PlanReport,
    message_key,
    new_message,
    replan_engagement,
    should_plan,
)
from scheduling.rules.decisions import came
from scheduling.rules.plan import CANCELLATION_NOTICE, PlannedMessage, PlanOffsets
from store.enums import EngagementStatus, ExpertStatus, InvitationAnswer, MessageStatus, Purpose
from store.models import Engagement, Message

FEEDBACK_WINDOW = timedelta(days=14)  # "you said, we did" is still worth sending this long
# Someone who was sent something, or phoned about it, knows the old time.
_TOLD = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.UNCERTAIN,
        MessageStatus.HANDED_TO_PERSON,
    }
)


async def _messages_by_key(
    session: AsyncSession, engagement_id: int, expert_id: int | None = None
) -> dict[str, Message]:
    query = select(Message).where(Message.engagement_id == engagement_id)
    if expert_id is not None:
        query = query.where(Message.expert_id == expert_id)
    return {m.idempotency_key: m for m in await session.scalars(query)}


async def move_engagement(
    session: AsyncSession,
    engagement: Engagement,
    starts_at: datetime,
    ends_at: datetime,
    base: PlanOffsets,
    now: datetime,
) -> PlanReport:
    """Move unsent messages with it, and tell anyone who already heard the old time."""
    engagement.starts_at, engagement.ends_at = starts_at, ends_at
    engagement.sequence += 1
    engagement.updated_at = now
    existing = await _messages_by_key(session, engagement.id)
    report = await replan_engagement(session, engagement, base, now)
    told = {m.expert_id for m in existing.values() if m.status in _TOLD}
    for earlier in existing.values():
        if earlier.purpose is Purpose.TIME_CHANGED and earlier.status is MessageStatus.PENDING:
            earlier.move(MessageStatus.CANCELLED, "replaced by a newer change of time", now)
    for invitation in engagement.invitations:
        if invitation.expert_id in told and should_plan(engagement, invitation):
            key = message_key(
                engagement.id, invitation.expert_id, Purpose.TIME_CHANGED, engagement.sequence
            )
            notice = PlannedMessage(Purpose.TIME_CHANGED, now, starts_at)
            session.add(new_message(key, notice, engagement.id, invitation.expert_id, now))
            report.added += 1
    return report


async def cancel_engagement(
    session: AsyncSession, engagement: Engagement, reason: str, now: datetime
) -> PlanReport:
    """Cancel unsent messages, tell everyone who might come, and give people the work
    the 24-hour rule needs when a notice cannot be relied on."""
    report = PlanReport()
    was_published = engagement.status is EngagementStatus.PUBLISHED
    engagement.status = EngagementStatus.CANCELLED
    engagement.cancelled_at = now
    engagement.cancel_reason = reason
    engagement.updated_at = now
    earlier = list((await _messages_by_key(session, engagement.id)).values())
    for message in earlier:
        if message.status is MessageStatus.PENDING:
            message.move(MessageStatus.CANCELLED, "the engagement was cancelled", now)
            report.cancelled += 1
    # Work about its earlier messages (a pre-brief to phone through, a send that failed)
    # can no longer help, and would sit beside the calls about the cancellation itself.
    on = now.astimezone(ZoneInfo(engagement.time_zone)).strftime("%-d %B %Y")
    await close_obsolete_tasks(
        session,
        [m.id for m in earlier if m.purpose is not Purpose.CANCELLATION],
        f"The engagement was cancelled on {on}, so this is no longer needed.",
        now,
    )
    # A draft was never published, so nobody was told of it: there is nothing to undo.
    notify = [
        i
        for i in engagement.invitations
        if was_published
        and i.answer is not InvitationAnswer.NO
        and i.expert.status is not ExpertStatus.WITHDRAWN
    ]
    for invitation in notify:
        key = message_key(engagement.id, invitation.expert_id, Purpose.CANCELLATION)
        notice = PlannedMessage(Purpose.CANCELLATION, now, engagement.starts_at)
        session.add(new_message(key, notice, engagement.id, invitation.expert_id, now))
        report.added += 1
    late = engagement.starts_at - now < CANCELLATION_NOTICE
    if late:
        for invitation in notify:
            await open_phone_task_for_cancellation(session, engagement, invitation.expert, now)
        if notify:
            await open_venue_task(session, engagement, now)
    # What people had spent or booked is owed: a line each in the ledger (not a task).
    await open_cancellation_costs(session, notify, now)
    return report


async def plan_feedback(session: AsyncSession, engagement: Engagement, now: datetime) -> PlanReport:
    """One "you said, we did" message for each person who came, once per engagement.

    The text is rendered when it is sent, so outcomes corrected before then go out as
    corrected; anyone who already had theirs is not sent a second one.
    """
    report = PlanReport()
    existing = await _messages_by_key(session, engagement.id)
    for invitation in engagement.invitations:
        if not came(invitation) or invitation.expert.status is ExpertStatus.WITHDRAWN:
            continue
        key = message_key(engagement.id, invitation.expert_id, Purpose.FEEDBACK)
        if key in existing:
            report.unchanged += 1
            continue
        planned = PlannedMessage(Purpose.FEEDBACK, now, now + FEEDBACK_WINDOW)
        session.add(new_message(key, planned, engagement.id, invitation.expert_id, now))
        report.added += 1
    return report
