"""What needs a person today, counted for the first page after signing in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services.staff.access import Scope
from store.enums import ChangeStatus, EngagementStatus, TaskStatus
from store.models import ContactChange, Engagement, Expert, Reply, Task

# Engagements this close are listed as coming up.
SOON = timedelta(days=14)


@dataclass(frozen=True)
class Today:
    urgent_replies: int
    waiting_replies: int
    urgent_tasks: int
    open_tasks: int
    changes_to_confirm: int
    engagements_soon: int


async def what_needs_a_person(session: AsyncSession, scope: Scope, now: datetime) -> Today:
    """Counts within what this person may see. A contact change they asked for themselves
    is not theirs to confirm, so it is not counted for them."""
    waiting = (
        select(func.count(Reply.id))
        .where(Reply.needs_person.is_(True), Reply.acknowledged_at.is_(None))
        .where(scope.replies())
    )
    open_tasks = select(func.count(Task.id)).where(Task.status == TaskStatus.OPEN, scope.tasks())
    changes = (
        select(func.count(ContactChange.id))
        .join(Expert, Expert.id == ContactChange.expert_id)
        .where(
            ContactChange.status == ChangeStatus.PENDING,
            ContactChange.requested_by_id != scope.viewer.id,
            scope.experts(),
        )
    )
    soon = (
        select(func.count(Engagement.id))
        .where(
            Engagement.status == EngagementStatus.PUBLISHED,
            Engagement.starts_at >= now,
            Engagement.starts_at < now + SOON,
        )
        .where(scope.engagements())
    )
    return Today(
        urgent_replies=await session.scalar(waiting.where(Reply.urgent.is_(True))) or 0,
        waiting_replies=await session.scalar(waiting) or 0,
        urgent_tasks=await session.scalar(open_tasks.where(Task.urgent.is_(True))) or 0,
        open_tasks=await session.scalar(open_tasks) or 0,
        changes_to_confirm=await session.scalar(changes) or 0,
        engagements_soon=await session.scalar(soon) or 0,
    )


@dataclass(frozen=True)
class Worrying:
    """A worrying reply nobody has read yet, for the banner at the top of Home."""

    reply_id: int
    name: str
    ref: str | None
    waited: timedelta


async def worrying_replies(session: AsyncSession, scope: Scope, now: datetime) -> list[Worrying]:
    """Unread worrying replies this person answers for (their own experts, and those of a
    colleague they cover while away), oldest first: the longest wait is the most urgent."""
    rows = await session.scalars(
        select(Reply)
        .where(Reply.urgent.is_(True), Reply.acknowledged_at.is_(None), scope.replies())
        .options(joinedload(Reply.expert))
        .order_by(Reply.received_at, Reply.id)
        .limit(20)
    )
    return [
        Worrying(
            reply_id=r.id,
            name=r.expert.preferred_name if r.expert else "Someone we do not know",
            ref=r.expert.ref if r.expert else None,
            waited=now - r.received_at,
        )
        for r in rows
    ]
