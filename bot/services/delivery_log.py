"""The delivery log: every planned message with its status, channel and attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store.enums import Channel, MessageStatus
from store.models import Message


@dataclass(frozen=True)
class LogFilter:
    expert_id: int | None = None
    channel: Channel | None = None
    status: MessageStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


def _filtered(query: Select[tuple[Message]], f: LogFilter) -> Select[tuple[Message]]:
    if f.expert_id is not None:
        query = query.where(Message.expert_id == f.expert_id)
    if f.channel is not None:
        query = query.where(Message.channel == f.channel)
    if f.status is not None:
        query = query.where(Message.status == f.status)
    if f.since is not None:
        query = query.where(Message.due_at >= f.since)
    if f.until is not None:
        query = query.where(Message.due_at < f.until)
    return query


async def delivery_log(session: AsyncSession, f: LogFilter) -> list[Message]:
    query = _filtered(
        select(Message).options(selectinload(Message.attempts_log), selectinload(Message.expert)),
        f,
    )
    rows = await session.scalars(query.order_by(Message.due_at, Message.id).limit(f.limit))
    return list(rows)
