"""What the pages and the CLI read about engagements: lists, answer counts, who could
still be invited and the planned messages (when they really go is the shared forecast's
job: scheduling/planning/expected.py). Nothing here changes anything."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import ExpertStatus, InvitationAnswer
from store.models import Engagement, Expert, Invitation, Message, PlanSetting


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
