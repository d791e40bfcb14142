"""Recording a batch in a few statements, without the ORM's row at a time: every try
before the sends, the plain acceptances after them, and the full picture loaded once for
any other answer (which :func:`results.record_result` then records)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Receipt
from scheduling.clock import Clock
from scheduling.sending.dispatch_types import Prepared, Ready
from scheduling.sending.outbox import (
    insert_tries,
    load_messages,
    still_held,
    write_messages,
    write_tries,
)
from scheduling.sending.results import accepted
from store.models import DeliveryAttempt, Message

# A provider's answer to one send of the batch.
Answer = tuple[Ready, Receipt | Exception]


async def record_tries(session: AsyncSession, prepared: Sequence[Prepared]) -> list[Ready]:
    """Every try of the batch in one INSERT (the ORM would insert them one row at a time
    on SQLite, to read back each id), and the words and route of the messages about to go
    in one UPDATE; the other messages' changes are flushed first."""
    await session.flush()
    await write_messages(session, [{"the_id": p.message_id, **p.changes} for p in prepared])
    ids = await insert_tries(session, [plan.attempt for plan in prepared])
    return [
        Ready(
            p.message_id,
            ids[p.message_id],
            p.outgoing,
            p.expert_id,
            p.purpose,
            p.attempt["router_reason"],
            p.keeps_word,
        )
        for p in prepared
    ]


async def record_accepted(
    session: AsyncSession,
    answers: Sequence[Answer],
    worker: str,
    clock: Clock,
    on_sent: Callable[[Ready, datetime], None],
) -> list[Answer]:
    """Write the plain acceptances this worker still holds (``results.accepted``, the
    same rule as :func:`results.record_result`) with two statements for the slice, without
    loading the messages, and tell ``on_sent`` of each; returns the answers left for the
    full path."""
    plain = {
        one.message_id: one.attempt_id
        for one, result in answers
        if isinstance(result, Receipt) and not one.keeps_word
    }
    held = await still_held(session, plain, worker)
    if not held:
        return list(answers)
    now = clock.now()
    messages, tries, done, rest = [], [], [], []
    for one, result in answers:
        if one.message_id not in held or not isinstance(result, Receipt):
            rest.append((one, result))
            continue
        change = accepted(one.reason, result, now)
        messages.append({"the_id": one.message_id, **change.message})
        tries.append({"the_id": one.attempt_id, **change.attempt})
        done.append(one)
    await write_messages(session, messages)
    await write_tries(session, tries)
    for one in done:
        on_sent(one, now)
    return rest


async def load_answered(
    session: AsyncSession, answers: Sequence[Answer]
) -> list[tuple[Message, DeliveryAttempt, Receipt | Exception]]:
    """The full picture for the answers left: each message, loaded together, with the try
    the answer is for (none at all, and no query, when nothing is left; a message or try
    no longer there is skipped)."""
    if not answers:
        return []
    messages = await load_messages(session, [one.message_id for one, _ in answers])
    by_id = {message.id: message for message in messages}
    found = []
    for one, result in answers:
        message = by_id.get(one.message_id)
        attempt = (
            next((a for a in message.attempts_log if a.id == one.attempt_id), None)
            if message is not None
            else None
        )
        if message is not None and attempt is not None:
            found.append((message, attempt, result))
    return found
