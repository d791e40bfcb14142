"""Replies as staff see them: what is waiting and for how long, and saying "I have seen it".

Acknowledging is a person's act, recorded with their name (R-2.7). Acknowledging the last
worrying reply from someone lifts the hold on automated messages to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from scheduling.people.reply_escalation import AckLimits, ack_deadline
from store import audit
from store.errors import Refused
from store.models import Expert, Message, Reply, Staff, Task


class ReplyError(Refused):
    """The reply cannot be found or acknowledged; the message says why."""


@dataclass(frozen=True)
class Waiting:
    reply: Reply
    age: timedelta
    overdue: bool


@dataclass(frozen=True)
class ReplyContext:
    """What a person reading a reply needs around it: what it answered, and its task."""

    question: Message | None
    task: Task | None
    deadline: datetime | None  # when a person should have seen it (None once seen or settled)


# What the machine took a reply to mean, in the words a link worker would use.
INTENT_WORDS = {
    "yes": "Yes to an invitation",
    "no": "No to an invitation",
    "maybe": "Maybe to an invitation",
    "stop": "Stop: no more messages this way",
    "start": "Start: messages can go again",
    "pause": "Pause: a break from messages",
    "help": "Asked for help",
    "call": "Asked for a call",
    "score": "Answered how they are",
    "pass": "Passed on the question",
    "other": "Something to read",
    "worrying": "Worrying: may need someone now",
    "stranger": "From a number or chat we do not know",
    "shared_number": "From a number several people share",
    "linked": "Linked their Telegram chat",
    "link_refused": "A Telegram link that did not work",
}


async def list_replies(
    session: AsyncSession,
    *,
    now: datetime,
    limits: AckLimits,
    everything: bool = False,
    strangers: bool = False,
    expert: Expert | None = None,
    limit: int = 200,
    where: ColumnElement[bool] | None = None,
) -> list[Waiting]:
    """Waiting replies, oldest and urgent first; ``everything`` adds the settled ones.

    ``where`` narrows the list to what one person may see (``Scope.replies()``).
    """
    query = select(Reply).options(selectinload(Reply.expert), selectinload(Reply.acknowledged_by))
    if where is not None:
        query = query.where(where)
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


async def reply_context(
    session: AsyncSession, reply: Reply, *, now: datetime, limits: AckLimits
) -> ReplyContext:
    """The message it answered and the task it opened, for the reply's own page."""
    question = await session.get(Message, reply.in_reply_to_id) if reply.in_reply_to_id else None
    task = await session.get(Task, reply.task_id) if reply.task_id else None
    waiting = reply.needs_person and reply.acknowledged_at is None
    deadline = ack_deadline(reply.received_at, reply.urgent, limits) if waiting else None
    return ReplyContext(question, task, deadline)


def describe_intent(reply: Reply) -> str:
    """What the machine understood, in plain words, with a check-in score when there is one."""
    words = INTENT_WORDS.get(reply.intent or "", "Not understood")
    if reply.score is not None:
        words = f"{words} ({reply.score} out of 5)"
    return words


def age_in_words(age: timedelta) -> str:
    """How long something has waited, as people say it: "5 minutes", "2 hours", "3 days"."""
    minutes = max(int(age.total_seconds() // 60), 0)
    if minutes < 60:
        return "just now" if minutes < 1 else _plural(minutes, "minute")
    hours = minutes // 60
    if hours < 48:
        return _plural(hours, "hour")
    return _plural(hours // 24, "day")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_age(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"
