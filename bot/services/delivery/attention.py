"""Messages that need a person, and why. The actions a person may then take (try again,
cancel) are in `message_actions`.

What needs a person:

- **may have been sent**: ``uncertain``, or ``sending`` after its worker stopped with an
  attempt still open. It is never resent on its own (docs/architecture.md, "At most one
  copy"); a person must first check that it did not arrive.
- **failed**: every channel failed. Listed for 30 days, until it is sent again or the
  task about it is closed.
- **stuck**: ``pending`` more than an hour after its next try was due (a message held for
  a reason, such as safe hours, has its next try in the future, so it is never "stuck"),
  or ``sending`` more than five minutes after its lease ran out. Either means no worker is
  running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.delivery.log import LogFilter, LogLine, line_of, log_query
from bot.services.staff.access import NotFound
from store.enums import AttemptOutcome, MessageStatus, TaskKind, TaskStatus
from store.models import AuditEvent, Message, Task

STUCK_AFTER = timedelta(hours=1)
LEASE_GRACE = timedelta(minutes=5)
FAILED_SHOWN_FOR = timedelta(days=30)
RETRIED = "message.retried"
# The tasks a person closes by dealing with the message here.
YOUR_TASKS = (TaskKind.DELIVERY_PROBLEM, TaskKind.CHECK_POSSIBLE_SEND)


class Need(StrEnum):
    """Why a message is on the "needs attention" list, most serious first."""

    MAY_HAVE_BEEN_SENT = "may_have_been_sent"
    FAILED = "failed"
    STUCK = "stuck"

    @property
    def label(self) -> str:
        return {
            Need.MAY_HAVE_BEEN_SENT: "May have been sent",
            Need.FAILED: "Failed",
            Need.STUCK: "Stuck",
        }[self]


@dataclass(frozen=True)
class Attention:
    message: Message
    line: LogLine
    need: Need | None
    since: datetime
    explanation: str


def open_attempt(message: Message) -> bool:
    return any(a.outcome is AttemptOutcome.IN_PROGRESS for a in message.attempts_log)


def stuck_sending(message: Message, now: datetime) -> bool:
    lease = message.lease_until
    return message.status is MessageStatus.SENDING and (lease is None or lease < now - LEASE_GRACE)


def need_of(message: Message, now: datetime) -> Need | None:
    """What this message needs from a person now, if anything (attempts must be loaded).

    A failed message counts whatever its age here, so one opened from the log can still
    be tried again; the list itself shows only recent, unresolved failures.
    """
    if message.status is MessageStatus.UNCERTAIN:
        return Need.MAY_HAVE_BEEN_SENT
    if stuck_sending(message, now):
        return Need.MAY_HAVE_BEEN_SENT if open_attempt(message) else Need.STUCK
    if message.status is MessageStatus.FAILED:
        return Need.FAILED
    if message.status is MessageStatus.PENDING and message.next_attempt_at < now - STUCK_AFTER:
        return Need.STUCK
    return None


def _explain(message: Message, need: Need) -> str:
    if need is Need.MAY_HAVE_BEEN_SENT:
        return (
            "It may have reached them. Check with the person, or in the provider's records, "
            "before trying again: the same message twice can cause real harm."
        )
    if need is Need.FAILED:
        return "Every way of reaching them failed. Try again once the problem is fixed."
    if message.status is MessageStatus.SENDING:
        return "A worker stopped before sending it. Check that Linkline's worker is running."
    return "It is waiting long past its time. Check that Linkline's worker is running."


def _since(message: Message, need: Need) -> datetime:
    if message.status is MessageStatus.SENDING and message.lease_until is not None:
        return message.lease_until
    if need is Need.STUCK:
        return message.next_attempt_at
    return message.updated_at


def _listed(now: datetime) -> ColumnElement[bool]:
    return or_(
        Message.status == MessageStatus.UNCERTAIN,
        and_(Message.status == MessageStatus.FAILED, Message.updated_at >= now - FAILED_SHOWN_FOR),
        and_(
            Message.status == MessageStatus.PENDING,
            Message.next_attempt_at < now - STUCK_AFTER,
        ),
        and_(
            Message.status == MessageStatus.SENDING,
            or_(Message.lease_until.is_(None), Message.lease_until < now - LEASE_GRACE),
        ),
    )


async def _resolved_failures(
    session: AsyncSession, failed_ids: Sequence[int], now: datetime
) -> set[int]:
    """Failed messages already dealt with: sent again, or their task closed by a person."""
    if not failed_ids:
        return set()
    retried = await session.scalars(
        select(AuditEvent.entity_id).where(
            AuditEvent.at >= now - FAILED_SHOWN_FOR,  # the audit log is only read by its index
            AuditEvent.action == RETRIED,
            AuditEvent.entity == "message",
        )
    )
    closed = await session.scalars(
        select(Task.message_id).where(
            Task.message_id.in_(failed_ids),
            Task.kind.in_(YOUR_TASKS),
            Task.status != TaskStatus.OPEN,
        )
    )
    return {i for i in retried if i is not None} | {i for i in closed if i is not None}


async def needing_attention(session: AsyncSession, now: datetime) -> list[Attention]:
    """Every message that needs a person, most serious first, then oldest first."""
    messages = list(await session.scalars(log_query(LogFilter()).where(_listed(now))))
    failed = [m.id for m in messages if m.status is MessageStatus.FAILED]
    resolved = await _resolved_failures(session, failed, now)
    found: list[Attention] = []
    for message in messages:
        need = need_of(message, now)
        if need is None or message.id in resolved:
            continue
        found.append(
            Attention(
                message, line_of(message), need, _since(message, need), _explain(message, need)
            )
        )
    order = list(Need)
    found.sort(key=lambda a: (order.index(a.need) if a.need else len(order), a.since, a.message.id))
    return found


async def attention_for(session: AsyncSession, message_id: int, now: datetime) -> Attention:
    """One message, with what it needs (if anything): the page a person acts from."""
    message = await load_message(session, message_id, lock=False)
    need = need_of(message, now)
    copy_id = await sent_again_as(session, message) if need is Need.FAILED else None
    if copy_id is not None:
        need, explanation = None, f"It has already been sent again, as message {copy_id}."
    elif need is None:
        explanation = "It does not need anything from you now."
    else:
        explanation = _explain(message, need)
    since = _since(message, need) if need else message.updated_at
    return Attention(message, line_of(message), need, since, explanation)


async def sent_again_as(session: AsyncSession, message: Message) -> int | None:
    """The copy a failed message was already sent again as, if it was."""
    events = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.at >= message.updated_at,  # read by the audit log's index on time
            AuditEvent.action == RETRIED,
            AuditEvent.entity == "message",
            AuditEvent.entity_id == message.id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    event = events.first()
    if event is None:
        return None
    return int(event.data.get("sent_as") or 0) or None


async def load_message(session: AsyncSession, message_id: int, *, lock: bool = True) -> Message:
    query = log_query(LogFilter()).where(Message.id == message_id)
    if lock:
        # PostgreSQL: a worker or the lease sweeper cannot move it while a person does.
        query = query.with_for_update(of=Message)
    message = await session.scalar(query.execution_options(populate_existing=True))
    if message is None:
        raise NotFound(f"message {message_id}")
    return message
