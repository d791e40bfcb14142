"""Pastoral drafts a link worker approves before they go, with their own line added.

Practice asks that keeping-in-touch messages come from the person the expert knows and
sound like them, so a link worker can choose to see each one a day ahead. A draft nobody
approved is never sent: silence from the system is safer than a message nobody stood by.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import in_sentence
from store.enums import MessageStatus, Purpose, TaskKind, TaskStatus
from store.errors import Refused
from store.models import Message, Staff, Task

NOTE_MAX = 300


class DraftError(Refused):
    """The draft cannot be approved; the message says why."""


def approval_key(message_id: int) -> str:
    return f"msg{message_id}:approve"


class Addressee(NamedTuple):
    """Who a draft is to: what its approval task says about them."""

    id: int
    preferred_name: str
    time_zone: str


def approval_task_row(
    message_id: int, due_at: datetime, expert: Addressee, staff: Staff, now: datetime
) -> dict[str, Any]:
    """The approval task for a new draft, as a row for a bulk insert (the planner makes
    thousands at once). Its dedupe key still makes a second one impossible."""
    when = spoken_datetime(due_at, expert.time_zone)
    return {
        "kind": TaskKind.APPROVE_PASTORAL,
        "status": TaskStatus.OPEN,
        "urgent": False,
        "title": "Approve a keeping-in-touch message",
        "details": (
            f"A keeping-in-touch message to {expert.preferred_name} is planned for {when}. "
            "Approve it on this page, and add your own line if you like, for example thanks "
            "for something they did. Keep it discreet: it may show on a lock screen.\n"
            "If you do nothing, it is not sent."
        ),
        "assignee_id": staff.id,
        "expert_id": expert.id,
        "engagement_id": None,
        "message_id": message_id,
        "dedupe_key": approval_key(message_id),
        "due_at": due_at,
        "created_at": now,
    }


async def approve_draft(
    session: AsyncSession, message_id: int, staff: Staff, note: str | None, now: datetime
) -> Message:
    message = await session.get(Message, message_id)
    if message is None or message.purpose is not Purpose.PASTORAL:
        raise DraftError(f"there is no keeping-in-touch draft {message_id}")
    if not message.needs_approval:
        raise DraftError(f"message {message_id} does not need approval: it goes as planned")
    if message.status is not MessageStatus.PENDING:
        raise DraftError(
            f"message {message_id} can no longer be approved: it is {in_sentence(message.status)} "
            f"({message.status_reason or 'no reason recorded'})"
        )
    cleaned = " ".join((note or "").split())
    if len(cleaned) > NOTE_MAX:
        raise DraftError(f"the note is {len(cleaned)} characters; keep it under {NOTE_MAX}")
    message.approved_at, message.approved_by_id = now, staff.id
    message.personal_note = cleaned or None
    message.updated_at = now
    await _close(session, message.id, TaskStatus.DONE, f"approved by {staff.name}", now)
    return message


async def close_approval_task(
    session: AsyncSession, message: Message, reason: str, now: datetime
) -> None:
    """The draft went, or will never go: its approval task is no longer work to do."""
    status = TaskStatus.DONE if message.approved_at else TaskStatus.CANCELLED
    await _close(session, message.id, status, reason, now)


async def _close(
    session: AsyncSession, message_id: int, status: TaskStatus, outcome: str, now: datetime
) -> None:
    task = await session.scalar(select(Task).where(Task.dedupe_key == approval_key(message_id)))
    if task is not None and task.status is TaskStatus.OPEN:
        task.status, task.outcome, task.done_at = status, outcome[:300], now
