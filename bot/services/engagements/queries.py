"""What the pages and the CLI read about engagements: lists, answer counts, who could
still be invited and the planned messages, as they will really go. Nothing here changes
anything."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from channels.base import MessageChannel
from scheduling.rules.forecast import Expected, expected_plan
from scheduling.rules.frequency import FrequencyCap
from store.enums import AttemptOutcome, Channel, ExpertStatus, InvitationAnswer, Purpose
from store.models import DeliveryAttempt, Engagement, Expert, Invitation, Message, PlanSetting

# Attempts the frequency cap counts (as the dispatcher does): started, taken, or unknown.
_COUNTED = (AttemptOutcome.IN_PROGRESS, AttemptOutcome.ACCEPTED, AttemptOutcome.UNKNOWN)


async def list_engagements(
    session: AsyncSession, where: ColumnElement[bool] | None = None
) -> list[Engagement]:
    """Soonest first; ``where`` narrows it (the web pages pass what a person may see)."""
    query = select(Engagement).where(where if where is not None else true())
    return list(await session.scalars(query.order_by(Engagement.starts_at, Engagement.id)))


async def answer_counts(
    session: AsyncSession, engagement_ids: Sequence[int]
) -> dict[int, Counter[InvitationAnswer]]:
    """How many were invited to each engagement, by answer, in one query."""
    counts: dict[int, Counter[InvitationAnswer]] = {i: Counter() for i in engagement_ids}
    if not engagement_ids:
        return counts
    rows = await session.execute(
        select(Invitation.engagement_id, Invitation.answer, func.count(Invitation.id))
        .where(Invitation.engagement_id.in_(engagement_ids))
        .group_by(Invitation.engagement_id, Invitation.answer)
    )
    for engagement_id, answer, count in rows:
        counts[engagement_id][answer] = count
    return counts


async def known_kinds(session: AsyncSession) -> list[str]:
    """The kinds with their own contact-plan settings, and "meeting", the default."""
    names = set(await session.scalars(select(PlanSetting.kind)))
    return sorted(names | {"meeting"})


async def invitable_experts(
    session: AsyncSession, engagement: Engagement, where: ColumnElement[bool]
) -> list[Expert]:
    """Experts matching ``where`` (those a person may see) who could still be invited:
    not invited already, and not withdrawn."""
    invited = {i.expert_id for i in engagement.invitations}
    rows = await session.scalars(
        select(Expert).where(where, Expert.status != ExpertStatus.WITHDRAWN).order_by(Expert.id)
    )
    return sorted(
        (e for e in rows if e.id not in invited),
        key=lambda e: (e.preferred_name.casefold(), e.ref or "", e.id),
    )


async def planned_messages(
    session: AsyncSession, engagement_id: int, expert_ids: Sequence[int]
) -> dict[int, list[Message]]:
    """The outbox for this engagement, by expert and due time: what goes out, and when."""
    plan: dict[int, list[Message]] = {i: [] for i in expert_ids}
    if not expert_ids:
        return plan
    rows = await session.scalars(
        select(Message)
        .where(Message.engagement_id == engagement_id, Message.expert_id.in_(expert_ids))
        .order_by(Message.due_at, Message.id)
    )
    for message in rows:
        plan[message.expert_id].append(message)
    return plan


async def engagement_outbox(session: AsyncSession, engagement_id: int) -> list[Message]:
    """Every message planned for this engagement, for everyone, in the order they go."""
    rows = await session.scalars(
        select(Message)
        .where(Message.engagement_id == engagement_id)
        .order_by(Message.due_at, Message.id)
    )
    return list(rows)


async def expected_messages(
    session: AsyncSession,
    engagement: Engagement,
    expert_ids: Sequence[int],
    channels: Mapping[Channel, MessageChannel],
    cap: FrequencyCap,
    now: datetime,
) -> dict[int, list[Expected]]:
    """The planned messages as they will really go: channel, the time after safe hours
    and the frequency cap, and a warning for any that would come too late."""
    plan = await planned_messages(session, engagement.id, expert_ids)
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
    sent = await _capped_this_week(session, expert_ids, now)
    return {
        expert.id: expected_plan(
            plan[expert.id], expert, engagement, channels, cap, sent[expert.id], now
        )
        for expert in experts
    }


async def _capped_this_week(
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
