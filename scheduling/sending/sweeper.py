"""Settling a message whose worker stopped mid-way: resend only when certain nothing went.

The lease ran out with the message still marked as sending. With no try recorded it simply
goes back to the queue (a few times at most); with a try recorded the provider is asked
whether it has the message, and only a certain "no" lets it go again. Otherwise it is
uncertain and a person checks: a duplicate cannot be taken back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from channels.registry import ChannelRegistry
from scheduling.planning.promise_follow_ups import keep_word
from scheduling.rules.decisions import Finish
from scheduling.sending.outbox import load_message
from scheduling.sending.results import ask_provider
from store.enums import AttemptOutcome, MessageStatus, TaskKind
from store.models import Message

MAX_REQUEUES = 3

Finisher = Callable[[AsyncSession, Message, Finish, datetime], Awaitable[None]]


async def settle(
    session: AsyncSession,
    message: Message,
    now: datetime,
    channels: ChannelRegistry,
    finish: Finisher,
) -> None:
    """Decide the fate of one message left behind; ``finish`` hands it to a person."""
    await session.refresh(message, ["attempts_log", "expert"])
    open_attempts = [a for a in message.attempts_log if a.outcome is AttemptOutcome.IN_PROGRESS]
    if not open_attempts:
        message.requeues += 1
        if message.requeues >= MAX_REQUEUES:
            # Something about this message stops every worker: a person looks instead.
            await load_message(session, message.id)
            stuck = Finish(
                MessageStatus.HANDED_TO_PERSON,
                f"could not be worked on after {message.requeues} tries; a person checks",
                TaskKind.DELIVERY_PROBLEM,
            )
            await finish(session, message, stuck, now)
            return
        message.move(MessageStatus.PENDING, "worker stopped before sending; trying again", now)
        return
    attempt = open_attempts[-1]
    await session.refresh(message.expert, ["contact_points"])  # a provider asked by number
    attempt.outcome, attempt.finished_at = AttemptOutcome.UNKNOWN, now
    channel = channels.get(attempt.channel)
    found, conclusive = await ask_provider(channel, message, attempt)
    if found is not None:
        attempt.outcome = AttemptOutcome.ACCEPTED
        attempt.provider_id = message.provider_id = found.provider_id
        message.sent_at = now
        message.move(MessageStatus.SENT, "found at the provider after a worker stopped", now)
        await load_message(session, message.id)
        await keep_word(session, message, now)
        return
    if conclusive:
        # Certain nothing went out: the try must not count against the frequency cap.
        attempt.outcome = AttemptOutcome.TRANSIENT_FAILURE
        attempt.error = "the worker stopped before the provider had it"
        message.move(MessageStatus.PENDING, "worker stopped; provider has no copy", now)
        return
    await load_message(session, message.id)
    uncertain = Finish(
        MessageStatus.UNCERTAIN,
        "a worker stopped while sending; it may have been sent, so it is not resent",
        TaskKind.CHECK_POSSIBLE_SEND,
    )
    await finish(session, message, uncertain, now)
