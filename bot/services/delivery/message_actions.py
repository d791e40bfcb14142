"""What an administrator may do about a message that needs a person (`attention`): try
again, or cancel. Every change goes through the lifecycle (`Message.move`) and the audit
trail.

The lifecycle lets neither ``failed`` nor ``uncertain`` go back to ``pending``, so trying
one of them again queues a fresh copy of the message (same person, purpose, engagement
and deadline; a new key, so the provider lookup of the old one cannot match it) and the
uncertain one is closed as handed to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.delivery.attention import (
    RETRIED,
    YOUR_TASKS,
    Need,
    load_message,
    need_of,
    open_attempt,
    sent_again_as,
    stuck_sending,
)
from bot.services.inbox.tasks import close_task
from scheduling.planning.pastoral_drafts import close_approval_task
from scheduling.sending.dispatcher import DispatchConfig
from scheduling.text.words import MESSAGE_STATUSES_BRIEF
from store import audit
from store.enums import FINAL_STATUSES, AttemptOutcome, MessageStatus, TaskStatus
from store.errors import Refused
from store.models import Message, Task

# The dispatcher's own limit: a message this late is never sent automatically.
MAX_OVERDUE = DispatchConfig().max_overdue
CANCELLED = "message.cancelled"

CANCEL_REASONS: dict[str, str] = {
    "no_longer_needed": "It is no longer needed",
    "told_another_way": "They have been told another way (in person or by phone)",
    "link_worker_asked": "Their link worker asked for it to be stopped",
    "wrong_person": "It should not go to this person",
}


class ActionRefused(Refused):
    """The action cannot be done; ``field`` is the form field the message belongs next to."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text, field=field)
        self.text = text


@dataclass(frozen=True)
class Retried:
    message_id: int  # the message that will now be sent: the same one, or a fresh copy
    copy: bool


def _when(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%-d %B %Y at %H:%M")


def _refuse_retry(message: Message, need: Need | None, now: datetime, tz: str) -> None:
    if need is None:
        state = MESSAGE_STATUSES_BRIEF[message.status].lower()
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
            f"{_when(message.not_after, tz)}. If they still need to know, contact them another "
            "way, for example by phone.",
        )
    if now - message.due_at > MAX_OVERDUE:
        raise ActionRefused(
            "retry",
            f"It was due on {_when(message.due_at, tz)}, more than {MAX_OVERDUE.days} days ago, "
            "and Linkline never sends anything that late. If they still need it, contact them "
            "another way.",
        )


async def retry_message(
    session: AsyncSession, message_id: int, *, checked: bool, actor: str, now: datetime, tz: str
) -> Retried:
    """Try a message again now, if that is safe.

    ``checked``: the person confirmed it did not arrive. Required when it may have been
    sent, because a duplicate to a survivor is real harm. ``tz``: the organisation's zone,
    for the times in a refusal.
    """
    message = await load_message(session, message_id)
    need = need_of(message, now)
    _refuse_retry(message, need, now, tz)
    if need is Need.FAILED and (copy_id := await sent_again_as(session, message)):
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
    open_attempts = open_attempt(message)
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
            Task.kind.in_(YOUR_TASKS),
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
    message = await load_message(session, message_id)
    label = MESSAGE_STATUSES_BRIEF[message.status].lower()
    if message.status in FINAL_STATUSES:
        raise ActionRefused(
            "cancel", f"This message is already '{label}', so there is nothing to cancel."
        )
    if message.status is MessageStatus.SENT:
        raise ActionRefused("cancel", "It has already been sent, so it cannot be cancelled.")
    if message.status is MessageStatus.SENDING and not stuck_sending(message, now):
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
