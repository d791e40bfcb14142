"""Messages that need a person, and what an administrator may do about them: try again,
or cancel. Every change goes through the lifecycle (`Message.move`) and the audit trail.

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

The lifecycle lets neither ``failed`` nor ``uncertain`` go back to ``pending``, so trying
one of them again queues a fresh copy of the message (same person, purpose, engagement
and deadline; a new key, so the provider lookup of the old one cannot match it) and the
uncertain one is closed as handed to a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.delivery.log import LONDON, STATUS_LABELS, LogFilter, LogLine, line_of, log_query
from bot.services.inbox.tasks import close_task
from bot.services.staff.access import NotFound
from scheduling.planning.pastoral_drafts import close_approval_task
from scheduling.sending.dispatcher import DispatchConfig
from store import audit
from store.enums import FINAL_STATUSES, AttemptOutcome, MessageStatus, TaskKind, TaskStatus
from store.errors import Refused
from store.models import AuditEvent, Message, Task

STUCK_AFTER = timedelta(hours=1)
LEASE_GRACE = timedelta(minutes=5)
FAILED_SHOWN_FOR = timedelta(days=30)
# The dispatcher's own limit: a message this late is never sent automatically.
MAX_OVERDUE = DispatchConfig().max_overdue
RETRIED = "message.retried"
CANCELLED = "message.cancelled"

CANCEL_REASONS: dict[str, str] = {
    "no_longer_needed": "It is no longer needed",
    "told_another_way": "They have been told another way (in person or by phone)",
    "link_worker_asked": "Their link worker asked for it to be stopped",
    "wrong_person": "It should not go to this person",
}
_YOUR_TASKS = (TaskKind.DELIVERY_PROBLEM, TaskKind.CHECK_POSSIBLE_SEND)


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


class ActionRefused(Refused):
    """The action cannot be done; ``field`` is the form field the message belongs next to."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field
        self.text = text


@dataclass(frozen=True)
class Attention:
    message: Message
    line: LogLine
    need: Need | None
    since: datetime
    explanation: str


@dataclass(frozen=True)
class Retried:
    message_id: int  # the message that will now be sent: the same one, or a fresh copy
    copy: bool


def _open_attempt(message: Message) -> bool:
    return any(a.outcome is AttemptOutcome.IN_PROGRESS for a in message.attempts_log)


def _stuck_sending(message: Message, now: datetime) -> bool:
    lease = message.lease_until
    return message.status is MessageStatus.SENDING and (lease is None or lease < now - LEASE_GRACE)


def need_of(message: Message, now: datetime) -> Need | None:
    """What this message needs from a person now, if anything (attempts must be loaded).

    A failed message counts whatever its age here, so one opened from the log can still
    be tried again; the list itself shows only recent, unresolved failures.
    """
    if message.status is MessageStatus.UNCERTAIN:
        return Need.MAY_HAVE_BEEN_SENT
    if _stuck_sending(message, now):
        return Need.MAY_HAVE_BEEN_SENT if _open_attempt(message) else Need.STUCK
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
            Task.kind.in_(_YOUR_TASKS),
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
    found.sort(key=lambda a: (order.index(a.need), a.since, a.message.id))
    return found


async def attention_for(session: AsyncSession, message_id: int, now: datetime) -> Attention:
    """One message, with what it needs (if anything): the page a person acts from."""
    message = await _load(session, message_id, lock=False)
    need = need_of(message, now)
    copy_id = await _sent_again_as(session, message) if need is Need.FAILED else None
    if copy_id is not None:
        need, explanation = None, f"It has already been sent again, as message {copy_id}."
    elif need is None:
        explanation = "It does not need anything from you now."
    else:
        explanation = _explain(message, need)
    since = _since(message, need) if need else message.updated_at
    return Attention(message, line_of(message), need, since, explanation)


async def _sent_again_as(session: AsyncSession, message: Message) -> int | None:
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


async def _load(session: AsyncSession, message_id: int, *, lock: bool = True) -> Message:
    query = log_query(LogFilter()).where(Message.id == message_id)
    if lock:
        # PostgreSQL: a worker or the lease sweeper cannot move it while a person does.
        query = query.with_for_update(of=Message)
    message = await session.scalar(query.execution_options(populate_existing=True))
    if message is None:
        raise NotFound(f"message {message_id}")
    return message


def _when(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%-d %B %Y at %H:%M")


def _refuse_retry(message: Message, need: Need | None, now: datetime) -> None:
    if need is None:
        state = STATUS_LABELS[message.status].lower()
        if message.status is MessageStatus.SENDING:
            raise ActionRefused(
                "retry", "A worker is sending it right now. Wait a few minutes and look again."
            )
        raise ActionRefused(
            "retry",
            f"Only a failed, stuck or possibly sent message can be tried again. This one is "
            f"'{state}'.",
        )
    if message.not_after is not None and now > message.not_after:
        raise ActionRefused(
            "retry",
            f"It is too late to send this message: it had to reach them by "
            f"{_when(message.not_after)}. If they still need to know, contact them another "
            "way, for example by phone.",
        )
    if now - message.due_at > MAX_OVERDUE:
        raise ActionRefused(
            "retry",
            f"It was due on {_when(message.due_at)}, more than {MAX_OVERDUE.days} days ago, and "
            "Linkline never sends anything that late. If they still need it, contact them "
            "another way.",
        )


async def retry_message(
    session: AsyncSession, message_id: int, *, checked: bool, actor: str, now: datetime
) -> Retried:
    """Try a message again now, if that is safe.

    ``checked``: the person confirmed it did not arrive. Required when it may have been
    sent, because a duplicate to a survivor is real harm.
    """
    message = await _load(session, message_id)
    need = need_of(message, now)
    _refuse_retry(message, need, now)
    if need is Need.FAILED and (copy_id := await _sent_again_as(session, message)):
        raise ActionRefused(
            "retry", f"It has already been sent again, as message {copy_id}: look at that one."
        )
    if need is Need.MAY_HAVE_BEEN_SENT and not checked:
        raise ActionRefused(
            "checked",
            "Tick to confirm you have checked that it did not arrive. If it did, sending it "
            "again would give them the same message twice.",
        )
    was = message.status
    if message.status in (MessageStatus.PENDING, MessageStatus.SENDING):
        _requeue(message, now)
        result = Retried(message.id, copy=False)
    else:
        copy = await _fresh_copy(session, message, now)
        result = Retried(copy.id, copy=True)
        if message.status is MessageStatus.UNCERTAIN:
            _checked_not_sent(message, now)
            message.move(
                MessageStatus.HANDED_TO_PERSON,
                f"a person checked it did not arrive; sent again as message {copy.id}",
                now,
            )
        await _close_tasks(
            session, message, f"{actor} asked for it to be sent again (message {copy.id})", now
        )
    audit.record(
        session,
        actor=actor,
        action=RETRIED,
        entity="message",
        entity_id=message.id,
        at=now,
        was=was.value,
        sent_as=result.message_id,
        checked_not_arrived=checked,
    )
    return result


CHECKED_NOTE = "a person checked it did not arrive"


def _checked_not_sent(message: Message, now: datetime) -> None:
    """A person checked that the try nobody knew the outcome of did not arrive, so, as when
    the provider says it has no copy, it no longer counts against the frequency cap."""
    for attempt in message.attempts_log:
        if attempt.outcome in (AttemptOutcome.IN_PROGRESS, AttemptOutcome.UNKNOWN):
            attempt.outcome = AttemptOutcome.TRANSIENT_FAILURE
            attempt.finished_at = attempt.finished_at or now
            attempt.error = f"{attempt.error}; {CHECKED_NOTE}" if attempt.error else CHECKED_NOTE


def _requeue(message: Message, now: datetime) -> None:
    """The same message, due now: nothing of it reached a provider, or a person checked."""
    open_attempts = _open_attempt(message)
    if open_attempts:
        _checked_not_sent(message, now)  # retry_message only gets here once the box is ticked
    message.next_attempt_at = now
    if message.status is MessageStatus.SENDING:
        reason = (
            "a person checked it did not arrive; trying again"
            if open_attempts
            else "the worker stopped before sending; a person asked to try again"
        )
        message.move(MessageStatus.PENDING, reason, now)
    else:
        message.status_reason = "a person asked to try again now"
        message.updated_at = now


_AGAIN = re.compile(r"(?::again\d+)+$")


async def _fresh_copy(session: AsyncSession, message: Message, now: datetime) -> Message:
    """A new pending message with the same purpose, person, engagement and deadline.

    Its due time stays the plan's, so re-planning the engagement sees nothing to move;
    it is tried at once. The text is rendered again when it is sent.
    """
    root = _AGAIN.sub("", message.idempotency_key)
    taken = await session.scalars(
        select(Message.idempotency_key).where(Message.idempotency_key.like(f"{root}:again%"))
    )
    numbers = [
        int(m.group(1)) for k in taken if (m := re.fullmatch(rf"{re.escape(root)}:again(\d+)", k))
    ]
    copy = Message(
        expert_id=message.expert_id,
        engagement_id=message.engagement_id,
        purpose=message.purpose,
        idempotency_key=f"{root}:again{max(numbers, default=0) + 1}",
        due_at=message.due_at,
        not_after=message.not_after,
        status=MessageStatus.PENDING,
        status_reason=f"sent again after message {message.id}",
        next_attempt_at=now,
        variant=message.variant,
        needs_approval=message.needs_approval,
        approved_at=message.approved_at,
        approved_by_id=message.approved_by_id,
        created_at=now,
        updated_at=now,
    )
    if message.needs_approval:
        copy.personal_note = await session.scalar(
            select(Message.personal_note).where(Message.id == message.id)
        )
    session.add(copy)
    await session.flush()
    return copy


async def _close_tasks(
    session: AsyncSession, message: Message, outcome: str, now: datetime
) -> None:
    """The task to look into this message is done: a person has dealt with it here."""
    tasks = await session.scalars(
        select(Task.id).where(
            Task.message_id == message.id,
            Task.kind.in_(_YOUR_TASKS),
            Task.status == TaskStatus.OPEN,
        )
    )
    for task_id in list(tasks):
        await close_task(session, task_id, outcome, now)


async def cancel_message(
    session: AsyncSession, message_id: int, *, reason: str, actor: str, now: datetime
) -> Message:
    """Stop a message that has not gone: it will never be sent.

    An uncertain message cannot be cancelled (it may already have gone), so it is closed
    as handed to a person instead, and its task to check stays open.
    """
    message = await _load(session, message_id)
    label = STATUS_LABELS[message.status].lower()
    if message.status in FINAL_STATUSES:
        raise ActionRefused(
            "cancel", f"This message is already '{label}', so there is nothing to cancel."
        )
    if message.status is MessageStatus.SENT:
        raise ActionRefused("cancel", "It has already been sent, so it cannot be cancelled.")
    if message.status is MessageStatus.SENDING and not _stuck_sending(message, now):
        raise ActionRefused(
            "cancel", "A worker is sending it right now. Wait a few minutes and look again."
        )
    if reason not in CANCEL_REASONS:
        raise ActionRefused("reason", "Choose why it should not be sent")
    why = CANCEL_REASONS[reason].lower()
    was = message.status
    if message.status is MessageStatus.UNCERTAIN:
        message.move(MessageStatus.HANDED_TO_PERSON, f"not sent again: {why}", now)
    else:
        open_attempts = [a for a in message.attempts_log if a.outcome is AttemptOutcome.IN_PROGRESS]
        for attempt in open_attempts:
            attempt.outcome, attempt.finished_at = AttemptOutcome.UNKNOWN, now
        note = "; a worker stopped while sending it, so it may have gone" if open_attempts else ""
        message.move(MessageStatus.CANCELLED, f"cancelled by a person: {why}{note}", now)
        if message.needs_approval:
            await close_approval_task(session, message, "cancelled by a person", now)
    audit.record(
        session,
        actor=actor,
        action=CANCELLED,
        entity="message",
        entity_id=message.id,
        at=now,
        was=was.value,
        reason=reason,
    )
    return message
