"""A provider problem that leaves several messages uncertain is one task, not one each.

When a provider fails mid-send and cannot say whether it kept a message, a person must
check. One message is its link worker's task, as before. When a second message on the
same channel goes the same way within :data:`INCIDENT_WINDOW`, it is a provider incident:
one task for an administrator says how many and what to check, the messages' own tasks
are folded into it, and every further message joins it while it is open. Each event is
logged as a warning with counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from scheduling.job_lock import hold_lock
from scheduling.people.tasks import open_task
from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import in_sentence
from store.enums import Channel, MessageStatus, Role, TaskKind, TaskStatus
from store.models import Message, Staff, Task

log = logging.getLogger(__name__)

INCIDENT_WINDOW = timedelta(minutes=30)  # uncertain sends this close are one problem
INCIDENT_OPEN_FOR = timedelta(hours=12)  # an open incident task keeps gathering this long
URGENT_WITHIN = timedelta(hours=24)  # a message whose deadline is this close makes it urgent
LISTED = 20  # messages named in the task; the rest are counted
FOLDED = "Gathered into one task about the provider's problem"
TITLE = "Check whether {count} messages reached people: the {channel} provider had a problem"
_PREFIX = "incident:"


async def gather_uncertain(session: AsyncSession, message: Message, now: datetime) -> bool:
    """Add this uncertain message to its channel's open incident, or open one when it is
    not the only recent one; False leaves it to a task of its own."""
    channel = message.channel
    if channel is None:
        return False
    # Messages of one batch settle in parallel transactions: one at a time here, so each
    # sees the others' uncertain messages and the incident task once they are committed.
    await hold_lock(session, f"uncertain-incident:{channel.value}")
    incident = await _open_incident(session, channel, now)
    since = incident.created_at - INCIDENT_WINDOW if incident else now - INCIDENT_WINDOW
    gathered = await _uncertain_since(session, channel, since)
    if incident is None and len(gathered) < 2:
        log.warning("1 %s message left uncertain by a provider problem", channel.value)
        return False
    if incident is None:
        incident = await open_task(
            session,
            kind=TaskKind.CHECK_POSSIBLE_SEND,
            title="",
            now=now,
            assignee=await _administrator(session),
            dedupe_key=f"{_PREFIX}{channel.value}:{now.isoformat()}",
        )
    _describe(incident, channel, gathered, message.expert.time_zone, now)
    await _fold(session, [m.id for m in gathered], now)
    log.warning(
        "%d %s messages left uncertain by a provider problem since %s; one task for an "
        "administrator",
        len(gathered),
        channel.value,
        since.isoformat(timespec="minutes"),
    )
    return True


async def _open_incident(session: AsyncSession, channel: Channel, now: datetime) -> Task | None:
    return await session.scalar(
        select(Task)
        .where(
            Task.kind == TaskKind.CHECK_POSSIBLE_SEND,
            Task.status == TaskStatus.OPEN,
            Task.dedupe_key.like(f"{_PREFIX}{channel.value}:%"),
            Task.created_at >= now - INCIDENT_OPEN_FOR,
        )
        .order_by(Task.created_at.desc(), Task.id.desc())
        .limit(1)
    )


async def _uncertain_since(
    session: AsyncSession, channel: Channel, since: datetime
) -> list[Message]:
    return list(
        await session.scalars(
            select(Message)
            .where(
                Message.status == MessageStatus.UNCERTAIN,
                Message.channel == channel,
                Message.updated_at >= since,
            )
            .options(joinedload(Message.expert))
            .order_by(Message.updated_at, Message.id)
        )
    )


async def _administrator(session: AsyncSession) -> Staff | None:
    return await session.scalar(
        select(Staff).where(Staff.role == Role.ADMIN, Staff.active.is_(True)).order_by(Staff.id)
    )


def _describe(
    task: Task, channel: Channel, gathered: list[Message], tz: str, now: datetime
) -> None:
    """Say how many, when, and what to check, in words an administrator acts on."""
    count = len(gathered)
    first, last = gathered[0].updated_at, gathered[-1].updated_at
    task.title = TITLE.format(count=count, channel=in_sentence(channel))
    when = (
        f"at {spoken_datetime(first, tz)}"
        if spoken_datetime(first, tz) == spoken_datetime(last, tz)
        else f"between {spoken_datetime(first, tz)} and {spoken_datetime(last, tz)}"
    )
    lines = [
        f"{count} messages {_by(channel)} {when} may or may not have reached people. The provider "
        "failed while handling them and could not say whether it kept them, so none has "
        "been sent again.",
        "What to check:",
        "1. The provider's status page, for a problem at those times.",
        "2. The provider's message logs for those times: which of these messages it has.",
        "3. On Needs attention, each message is listed: record the ones the provider has "
        "as sent, and send the others again.",
        "The messages:",
    ]
    lines += [
        f"- {in_sentence(m.purpose)} for {m.expert.preferred_name}, "
        f"{spoken_datetime(m.updated_at, m.expert.time_zone)}"
        for m in gathered[:LISTED]
    ]
    if count > LISTED:
        lines.append(f"- and {count - LISTED} more")
    task.details = "\n".join(lines)
    deadlines = [m.not_after for m in gathered if m.not_after is not None]
    task.due_at = min(deadlines, default=None)
    task.urgent = task.due_at is not None and task.due_at <= now + URGENT_WITHIN


def _by(channel: Channel) -> str:
    return f"by {in_sentence(channel)}"


async def _fold(session: AsyncSession, message_ids: list[int], now: datetime) -> None:
    """Close the messages' own check tasks: the incident task now covers them."""
    tasks = await session.scalars(
        select(Task).where(
            Task.kind == TaskKind.CHECK_POSSIBLE_SEND,
            Task.status == TaskStatus.OPEN,
            Task.message_id.in_(message_ids),
        )
    )
    for task in tasks:
        task.status, task.outcome, task.done_at = TaskStatus.CANCELLED, FOLDED, now
