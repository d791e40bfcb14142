"""Replies as staff see them: what is waiting and for how long, and saying "I have seen it".

Acknowledging is a person's act, recorded with their name (R-2.7). Acknowledging the last
worrying reply from someone lifts the hold on automated messages to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from scheduling.reply_escalation import AckLimits, ack_deadline
from store import audit
from store.models import Expert, Reply, Staff


class ReplyError(ValueError):
    """The reply cannot be found or acknowledged; the message says why."""


@dataclass(frozen=True)
class Waiting:
    reply: Reply
    age: timedelta
    overdue: bool


async def list_replies(
    session: AsyncSession,
    *,
    now: datetime,
    limits: AckLimits,
    everything: bool = False,
    strangers: bool = False,
    expert: Expert | None = None,
    limit: int = 200,
) -> list[Waiting]:
    """Waiting replies, oldest and urgent first; ``everything`` adds the settled ones."""
    query = select(Reply).options(selectinload(Reply.expert), selectinload(Reply.acknowledged_by))
    if not everything:
        query = query.where(Reply.needs_person.is_(True), Reply.acknowledged_at.is_(None))
    if strangers:
        query = query.where(Reply.expert_id.is_(None))
    if expert is not None:
        query = query.where(Reply.expert_id == expert.id)
    order = (Reply.urgent.desc(), Reply.received_at) if not everything else (Reply.id.desc(),)
    rows = await session.scalars(query.order_by(*order).limit(limit))
    return [
        Waiting(
            reply,
            now - reply.received_at,
            reply.needs_person
            and reply.acknowledged_at is None
            and ack_deadline(reply.received_at, reply.urgent, limits) <= now,
        )
        for reply in rows
    ]


async def get_reply(session: AsyncSession, reply_id: int) -> Reply:
    reply = await session.scalar(
        select(Reply)
        .where(Reply.id == reply_id)
        .options(selectinload(Reply.expert), selectinload(Reply.acknowledged_by))
    )
    if reply is None:
        raise ReplyError(f"there is no reply {reply_id}: `linkline replies` lists them")
    return reply


async def acknowledge(
    session: AsyncSession, reply: Reply, by: Staff | None, *, now: datetime
) -> bool:
    """Mark it seen; True when this lifted the hold on messages to the expert."""
    if reply.acknowledged_at is not None:
        return False
    reply.acknowledged_at = now
    reply.acknowledged_by_id = by.id if by is not None else None
    actor = by.email if by is not None else "linkline"
    audit.record(
        session,
        actor=actor,
        action="reply.acknowledged",
        entity="reply",
        entity_id=reply.id,
        at=now,
        waited_seconds=int((now - reply.received_at).total_seconds()),
    )
    if reply.expert_id is None:
        return False
    expert = await session.get(Expert, reply.expert_id)
    if expert is None or expert.held_since is None:
        return False
    await session.flush()
    still_worrying = await session.scalar(
        select(Reply.id).where(
            Reply.expert_id == expert.id,
            Reply.urgent.is_(True),
            Reply.acknowledged_at.is_(None),
        )
    )
    if still_worrying is not None:
        return False
    expert.held_since = None
    audit.record(
        session,
        actor=actor,
        action="expert.hold_lifted",
        entity="expert",
        entity_id=expert.id,
        at=now,
    )
    return True


async def acknowledge_for_task(
    session: AsyncSession, task_id: int, by: Staff | None, *, now: datetime
) -> int:
    """Closing a task means its replies were seen; the number acknowledged."""
    rows = list(
        await session.scalars(
            select(Reply).where(Reply.task_id == task_id, Reply.acknowledged_at.is_(None))
        )
    )
    for reply in rows:
        await acknowledge(session, reply, by, now=now)
    return len(rows)


def describe_age(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"
