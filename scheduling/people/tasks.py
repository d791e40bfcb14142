"""Work for people: who is responsible, and opening a task exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import TaskKind
from store.models import Engagement, Expert, Message, Staff, Task


async def open_task(
    session: AsyncSession,
    *,
    kind: TaskKind,
    title: str,
    now: datetime,
    assignee: Staff | None,
    details: str | None = None,
    expert: Expert | None = None,
    engagement: Engagement | None = None,
    message: Message | None = None,
    urgent: bool = False,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> Task:
    """Open a task unless one with the same dedupe key exists (re-runs must not pile up)."""
    if dedupe_key is not None:
        existing = await session.scalar(select(Task).where(Task.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    task = Task(
        kind=kind,
        title=title,
        details=details,
        assignee_id=assignee.id if assignee else None,
        expert_id=expert.id if expert else None,
        engagement_id=engagement.id if engagement else None,
        message_id=message.id if message else None,
        urgent=urgent,
        due_at=due_at,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    session.add(task)
    await session.flush()
    return task
