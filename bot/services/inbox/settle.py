"""Settling a reply in one act: what the person did is kept as the task's outcome, the
reply is marked read (lifting the hold on automated messages when it was the last worrying
one), and the task it opened is closed. Three separate clicks let the task sit open after
the reply was read, or the hold lift with nothing recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.inbox.replies import acknowledge
from bot.services.inbox.tasks import MAX_OUTCOME, close_task
from store.enums import TaskStatus
from store.errors import Refused
from store.models import Expert, Reply, Staff, Task


@dataclass(frozen=True)
class Settled:
    task_closed: bool
    hold_lifted: bool


async def settle_reply(
    session: AsyncSession, reply: Reply, note: str, by: Staff, *, now: datetime, actor: str
) -> Settled:
    """Record what was done, mark the reply read and close its task, together."""
    note = note.strip()
    task = await session.get(Task, reply.task_id) if reply.task_id else None
    task_open = task is not None and task.status is TaskStatus.OPEN
    if task_open and not note:
        raise Refused("Say what you did, for example who you spoke to and how", field="note")
    if len(note) > MAX_OUTCOME:
        raise Refused(f"What you did must be {MAX_OUTCOME} characters or fewer", field="note")
    expert = await session.get(Expert, reply.expert_id) if reply.expert_id else None
    held = expert is not None and expert.held_since is not None
    if task is not None and task_open:
        await close_task(session, task.id, note, now, by, actor=actor)
    if reply.acknowledged_at is None:
        await acknowledge(session, reply, by, now=now)
    lifted = held and expert is not None and expert.held_since is None
    return Settled(task_closed=task_open, hold_lifted=lifted)
