"""Work for people: who is responsible, opening a task exactly once, and closing the ones
that no longer need anyone."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import TaskKind, TaskStatus
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


# Tasks about what a person said or did: they stay open whatever happens to an engagement.
ABOUT_REPLIES = frozenset(
    {
        TaskKind.URGENT_REPLY,
        TaskKind.READ_REPLY,
        TaskKind.CALL_BACK,
        TaskKind.CONTACT_CHANGED,
        TaskKind.STRANGER,
    }
)


async def close_obsolete_tasks(
    session: AsyncSession, message_ids: Collection[int], note: str, now: datetime
) -> list[Task]:
    """Close the open tasks about these messages (a failed send, a call to make in their
    place, a check on whether one went), keeping ``note`` as the outcome, so nobody works
    on something that can no longer help. Tasks about replies are left alone."""
    if not message_ids:
        return []
    tasks = list(
        await session.scalars(
            select(Task).where(
                Task.status == TaskStatus.OPEN,
                Task.message_id.in_(list(message_ids)),
                Task.kind.not_in(list(ABOUT_REPLIES)),
            )
        )
    )
    for task in tasks:
        task.status = TaskStatus.CANCELLED
        task.outcome = note
        task.done_at = now
    return tasks
