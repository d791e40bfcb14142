"""Planned messages as they will really go, read from the outbox: the one function every
page that lists planned messages uses (an engagement, an expert), so the same message
shows the same time, channel and warning wherever it appears."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from channels.base import MessageChannel
from scheduling.rules.forecast import Expected, expected_plan
from scheduling.rules.frequency import FrequencyCap
from store.enums import AttemptOutcome, Channel, MessageStatus, Purpose
from store.models import DeliveryAttempt, Engagement, Expert, Message

# Attempts the frequency cap counts (as the dispatcher does): started, taken, or unknown.
_COUNTED = (AttemptOutcome.IN_PROGRESS, AttemptOutcome.ACCEPTED, AttemptOutcome.UNKNOWN)


async def expected_messages(
    session: AsyncSession,
    messages: Sequence[Message],
    channels: Mapping[Channel, MessageChannel],
    cap: FrequencyCap,
    now: datetime,
) -> dict[int, list[Expected]]:
    """``messages`` by expert, each with its channel, the time it really goes after safe
    hours, pause and the frequency cap, and a warning for any that would come too late."""
    expert_ids = sorted({m.expert_id for m in messages})
    if not expert_ids:
        return {}
    experts = await session.scalars(
        select(Expert)
        .where(Expert.id.in_(expert_ids))
        .options(
            selectinload(Expert.consents),
            selectinload(Expert.contact_points),
            selectinload(Expert.windows),
        )
    )
    engagement_ids = {m.engagement_id for m in messages if m.engagement_id is not None}
    engagements = {
        e.id: e
        for e in await session.scalars(select(Engagement).where(Engagement.id.in_(engagement_ids)))
    }
    sent = await capped_this_week(session, expert_ids, now)
    by_expert: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_expert[message.expert_id].append(message)
    return {
        expert.id: expected_plan(
            by_expert[expert.id], expert, engagements, channels, cap, sent[expert.id], now
        )
        for expert in experts
    }


async def coming_up(session: AsyncSession, expert_id: int) -> list[Message]:
    """One expert's messages still waiting to go, about anything, soonest first."""
    rows = await session.scalars(
        select(Message)
        .where(Message.expert_id == expert_id, Message.status == MessageStatus.PENDING)
        .options(selectinload(Message.engagement))
        .order_by(Message.next_attempt_at, Message.id)
    )
    return list(rows)


async def capped_this_week(
    session: AsyncSession, expert_ids: Sequence[int], now: datetime
) -> dict[int, list[datetime]]:
    """When each expert was handed messages the cap counts, in the last seven days."""
    rows = await session.execute(
        select(Message.expert_id, DeliveryAttempt.started_at)
        .join(Message, DeliveryAttempt.message_id == Message.id)
        .where(
            Message.expert_id.in_(expert_ids),
            Message.purpose.in_([p for p in Purpose if p.capped]),
            DeliveryAttempt.outcome.in_(_COUNTED),
            DeliveryAttempt.started_at > now - timedelta(days=7),
        )
    )
    sent: dict[int, list[datetime]] = defaultdict(list)
    for expert_id, started_at in rows:
        sent[expert_id].append(started_at)
    return sent
