"""What a provider's answer does to a message and its delivery attempt.

Sent, try again later, try the next channel, or nobody knows (a person checks). Kept apart
from the dispatcher so the rules for each answer read in one place; the dispatcher reports
the outcome and, for the uncertain case, hands the message to a person.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.base import (
    LookupUnanswered,
    MessageChannel,
    OutcomeUnknown,
    PermanentError,
    Receipt,
    Searchable,
    Sought,
    TransientError,
)
from scheduling.rules.decisions import RETRY_BUDGET, Finish, Send
from scheduling.sending.delivery_reports import mark_opted_out
from scheduling.text.words import in_sentence
from store.enums import AttemptOutcome, MessageStatus, TaskKind
from store.models import DeliveryAttempt, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retry:
    """How long to wait before trying a channel again after a temporary failure."""

    base: timedelta
    cap: timedelta


@dataclass(frozen=True)
class Recorded:
    """What the answer did: an outcome to report ("sent", "retry", "fallback"), or a
    ``finish`` for a person when nobody knows whether it went; neither for a late answer."""

    outcome: str | None = None
    detail: str = ""
    finish: Finish | None = None


def attempt_row(
    message: Message, decision: Send, worker: str, now: datetime, *, error: str | None = None
) -> dict[str, Any]:
    """A try on the decided route, as column values: open until the provider answers, or,
    with ``error``, failed for good before any call (the text does not fit the channel).
    The dispatcher inserts a batch of these in one statement."""
    return {
        "message_id": message.id,
        "channel": decision.route.channel,
        "router_reason": decision.reason[:500],
        "outcome": AttemptOutcome.IN_PROGRESS
        if error is None
        else AttemptOutcome.PERMANENT_FAILURE,
        "provider_id": None,
        "provider_status": None,
        "error": error,
        "worker": worker,
        "started_at": now,
        "finished_at": None if error is None else now,
    }


def new_attempt(
    message: Message, decision: Send, worker: str, now: datetime, *, error: str | None = None
) -> DeliveryAttempt:
    """:func:`attempt_row` as an object to add to the session."""
    return DeliveryAttempt(**attempt_row(message, decision, worker, now, error=error))


@dataclass(frozen=True)
class Accepted:
    """What a provider's acceptance writes, as column values: on the message (sent, its
    reason, the provider's id, the lease let go) and on its try. :func:`record_result`
    applies these to the objects; the dispatcher writes them for a whole slice of answers
    in two statements, so both paths keep one rule."""

    message: dict[str, Any]
    attempt: dict[str, Any]


def accepted(reason: str, receipt: Receipt, now: datetime) -> Accepted:
    """The changes for a try the provider took, while the worker still holds the message
    (:func:`still_ours`); ``reason`` is the try's router reason."""
    return Accepted(
        message={
            "status": MessageStatus.SENT,
            "status_reason": reason[:300],  # as Message.move keeps it
            "updated_at": now,
            "lease_until": None,
            "claimed_by": None,
            "provider_id": receipt.provider_id,
            "sent_at": now,
            "last_error": None,
        },
        attempt={
            "outcome": AttemptOutcome.ACCEPTED,
            "provider_id": receipt.provider_id,
            "provider_status": receipt.status,
            "finished_at": now,
        },
    )


def still_ours(message: Message, attempt: DeliveryAttempt, worker: str) -> bool:
    """The attempt is still open and this worker still holds the message."""
    return (
        attempt.outcome is AttemptOutcome.IN_PROGRESS
        and message.status is MessageStatus.SENDING
        and message.claimed_by == worker
    )


def record_result(
    message: Message,
    attempt: DeliveryAttempt,
    result: Receipt | Exception,
    now: datetime,
    *,
    worker: str,
    retry: Retry,
) -> Recorded:
    """Write the provider's answer onto the attempt and the message."""
    attempt.finished_at = now
    if not still_ours(message, attempt, worker):
        _record_late(message, attempt, result, now)
        return Recorded()
    if isinstance(result, Receipt):
        change = accepted(attempt.router_reason, result, now)
        message.move(MessageStatus.SENT, attempt.router_reason, now)  # refuses a wrong move
        _apply(message, change.message)
        _apply(attempt, change.attempt)
        return Recorded("sent", attempt.router_reason)
    detail = getattr(result, "detail", None) or type(result).__name__
    attempt.error = detail
    message.last_error = detail
    if isinstance(result, TransientError):
        attempt.outcome = AttemptOutcome.TRANSIENT_FAILURE
        message.next_attempt_at = now + backoff(message, result, retry)
        message.move(MessageStatus.PENDING, f"will try again: {detail}", now)
        return Recorded("retry", detail)
    if isinstance(result, PermanentError):
        attempt.outcome = AttemptOutcome.PERMANENT_FAILURE
        if result.opt_out_reason:
            mark_opted_out(message, attempt.channel, result.opt_out_reason, now)
        message.next_attempt_at = now  # the next pass routes to the next channel
        message.move(MessageStatus.PENDING, f"{message.channel} failed for good: {detail}", now)
        return Recorded("fallback", detail)
    attempt.outcome = AttemptOutcome.UNKNOWN
    reason = (
        f"{detail}; it may have been sent, so it is not sent again"
        if isinstance(result, OutcomeUnknown)
        else "the channel failed in an unexpected way; it may have been sent"
    )
    return Recorded(finish=Finish(MessageStatus.UNCERTAIN, reason, TaskKind.CHECK_POSSIBLE_SEND))


def _apply(row: Message | DeliveryAttempt, values: dict[str, Any]) -> None:
    for key, value in values.items():
        setattr(row, key, value)


def _record_late(
    message: Message, attempt: DeliveryAttempt, result: Receipt | Exception, now: datetime
) -> None:
    """The sweeper settled this message while the provider was slow: keep the facts,
    and only turn an uncertain message into a sent one when the provider confirms."""
    log.warning("message %s: result arrived after its lease was settled", message.id)
    if isinstance(result, Receipt):
        attempt.outcome = AttemptOutcome.ACCEPTED
        attempt.provider_id, attempt.provider_status = result.provider_id, result.status
        if message.status is MessageStatus.UNCERTAIN:
            message.provider_id, message.sent_at = result.provider_id, now
            message.move(MessageStatus.SENT, "the provider confirmed it after all", now)
    else:
        attempt.error = getattr(result, "detail", None) or type(result).__name__


async def ask_provider(
    channel: MessageChannel | None, message: Message, attempt: DeliveryAttempt
) -> tuple[Receipt | None, bool]:
    """After a worker stopped mid-send: the provider's copy, and whether "none" is certain.

    A provider that knows our key is asked by it; one that does not (Twilio) is asked by
    the number, the words and the attempt's start. A question it cannot answer is never
    taken as "not there": the message then stays uncertain.
    """
    if channel is None:
        return None, False
    if isinstance(channel, Searchable):
        point = next(
            (p for p in message.expert.contact_points if p.channel is attempt.channel), None
        )
        if point is None or not message.body:
            return None, False  # nothing to ask by: a person checks
        sought = Sought(message.idempotency_key, point.value, message.body, attempt.started_at)
        try:
            return await channel.search(sought), True
        except LookupUnanswered as exc:
            log.warning("message %s: the provider could not say whether it went", message.id)
            attempt.error = exc.detail
            return None, False
        except Exception:  # a bug must not stop the sweep, nor count as "not there"
            log.exception("message %s: asking the provider failed", message.id)
            return None, False
    found = await channel.lookup(message.idempotency_key)
    return found, found is None and channel.lookup_is_conclusive


def backoff(message: Message, error: TransientError, retry: Retry) -> timedelta:
    """Doubling waits with jitter, short enough that several tries fit the retry budget."""
    failures = sum(1 for a in message.attempts_log if a.outcome is AttemptOutcome.TRANSIENT_FAILURE)
    base = retry.base * (2 ** max(failures - 1, 0))
    # Several tries must fit in the message's retry budget before a person takes over.
    cap = min(retry.cap, RETRY_BUDGET.get(message.purpose, retry.cap) / 4)
    delay = min(base, cap) * random.uniform(0.5, 1.0)
    return max(delay, error.retry_after or timedelta(0))


def phone_script_fallback(message: Message) -> str:
    """What a caller is told when the phone script cannot be rendered."""
    return f"Call about: {in_sentence(message.purpose)}."
