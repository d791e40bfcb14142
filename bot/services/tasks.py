"""Tasks for people: the open list (urgent first) and closing one with its outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.replies import acknowledge_for_task
from store.enums import TaskStatus
from store.models import Staff, Task


async def open_tasks(session: AsyncSession) -> list[Task]:
    rows = await session.scalars(
        select(Task)
        .where(Task.status == TaskStatus.OPEN)
        .options(selectinload(Task.assignee), selectinload(Task.expert))
        .order_by(Task.urgent.desc(), Task.due_at.is_(None), Task.due_at, Task.id)
    )
    return list(rows)


async def close_task(
    session: AsyncSession, task_id: int, outcome: str, now: datetime, by: Staff | None = None
) -> Task | None:
    """Done: and any reply it was opened for has been seen by a person."""
    task = await session.get(Task, task_id)
    if task is None or task.status is not TaskStatus.OPEN:
        return None
    task.status = TaskStatus.DONE
    task.outcome = outcome.strip()[:300] or "done"
    task.done_at = now
    await acknowledge_for_task(session, task.id, by, now=now)
    return task
