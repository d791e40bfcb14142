"""Delivery reports from a provider: what "delivered" or "undelivered" means for a person.

Reports arrive late, twice and out of order, so a status only moves forward, and only
the report for the message's current send may move the message itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people.handoff import hand_to_person
from scheduling.rules.decisions import Finish
from scheduling.sending.outbox import load_message
from store.enums import AttemptOutcome, Channel, MessageStatus, TaskKind
from store.models import DeliveryAttempt, Message

log = logging.getLogger(__name__)

RETRY_DELAY = timedelta(minutes=15)
MAX_HANDSET_RETRIES = 3

# How far along each status is; a callback never moves a send backwards.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}
FINAL_RANK = 3
KNOWN_STATUSES = frozenset(_RANK)
FAILED_STATUSES = frozenset({"undelivered", "failed"})
HANDSET_CODES = frozenset({"30003", "30008"})  # phone off or out of signal: try again later
# 30007 (carrier filtered the content) is left out: it says nothing about the number.
UNREACHABLE_CODES = frozenset({"30005", "30006"})
OPT_OUT_CODE = "21610"


@dataclass(frozen=True)
class DeliveryReport:
    """One status report for one sent text, as the provider gave it."""

    provider_id: str
    status: str
    error_code: str | None


def mark_opted_out(message: Message, channel: Channel, reason: str, now: datetime) -> None:
    """They said no more on this channel (STOP, blocked, unreachable): never route there again."""
    for point in message.expert.contact_points:
        if point.channel is channel and point.opted_out_at is None:
            point.opted_out_at = now
            point.opt_out_reason = reason[:200]


async def apply_delivery_report(
    session: AsyncSession, callback: DeliveryReport, now: datetime
) -> None:
    """Record a report on its attempt, and move the message when it changes its fate."""
    found = await session.execute(
        select(DeliveryAttempt.id, DeliveryAttempt.message_id)
        .where(DeliveryAttempt.provider_id == callback.provider_id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(1)
        .with_for_update()  # two callbacks for one text must not race (PostgreSQL)
    )
    row = found.first()
    if row is None:
        log.info("delivery report for an unknown message id; ignored")
        return  # a 2xx all the same, so Twilio stops retrying
    # Load the message before touching anything: load_message refreshes what it loads,
    # which would otherwise overwrite a change made here first.
    message = await load_message(session, row.message_id)
    attempt = next((a for a in message.attempts_log if a.id == row.id), None) if message else None
    if message is None or attempt is None:
        return
    current = _RANK.get(attempt.provider_status or "", -1)
    if current >= FINAL_RANK or _RANK[callback.status] <= current:
        return  # late or repeated: the send already moved past this
    attempt.provider_status = callback.status
    if message.status is not MessageStatus.SENT or message.provider_id != callback.provider_id:
        return  # only the callback for the current send may move the message
    await _move_message(session, message, attempt, callback, now)


async def _move_message(
    session: AsyncSession,
    message: Message,
    attempt: DeliveryAttempt,
    callback: DeliveryReport,
    now: datetime,
) -> None:
    if callback.status == "delivered":
        message.move(MessageStatus.DELIVERED, "the phone network confirmed delivery", now)
    elif callback.status in FAILED_STATUSES:
        await _failed(session, message, attempt, callback.error_code, now)


async def _failed(
    session: AsyncSession,
    message: Message,
    attempt: DeliveryAttempt,
    code: str | None,
    now: datetime,
) -> None:
    """Decide what an undelivered text means for the person: wait, re-route, or ask staff."""
    attempt.finished_at = attempt.finished_at or now
    if code in HANDSET_CODES:
        await _retry_later(session, message, attempt, code, now)
        return
    attempt.outcome = AttemptOutcome.PERMANENT_FAILURE
    if code == OPT_OUT_CODE:
        mark_opted_out(message, Channel.SMS, "replied STOP", now)
        attempt.error = f"Twilio {code}: the number replied STOP"
    elif code in UNREACHABLE_CODES:
        mark_opted_out(message, Channel.SMS, "number unreachable", now)
        attempt.error = f"Twilio {code}: the number cannot get texts"
    else:
        attempt.error = f"Twilio {code or 'no code'}: text not delivered"
    message.last_error = attempt.error
    message.next_attempt_at = now  # the next pass routes it to the next channel
    message.move(MessageStatus.PENDING, f"sms not delivered: {attempt.error}", now)


async def _retry_later(
    session: AsyncSession, message: Message, attempt: DeliveryAttempt, code: str, now: datetime
) -> None:
    """Phone off or out of signal: try again in a while, but not for ever."""
    earlier = sum(
        1
        for a in message.attempts_log
        if a.id != attempt.id
        and a.channel is Channel.SMS
        and a.outcome is AttemptOutcome.TRANSIENT_FAILURE
        and a.provider_status in FAILED_STATUSES
    )
    attempt.outcome = AttemptOutcome.TRANSIENT_FAILURE
    attempt.error = message.last_error = f"Twilio {code}: the phone could not be reached"
    if earlier >= MAX_HANDSET_RETRIES:
        reason = f"the phone could not be reached after {earlier + 1} texts"
        finish = Finish(MessageStatus.FAILED, reason, TaskKind.DELIVERY_PROBLEM)
        message.move(MessageStatus.FAILED, reason, now)
        await hand_to_person(session, message, finish, now)
        return
    message.next_attempt_at = now + RETRY_DELAY
    message.move(MessageStatus.PENDING, f"will try again: {attempt.error}", now)
