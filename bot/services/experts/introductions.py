"""The words that open and confirm someone's contact agreement: the welcome when their
first channel is confirmed, and "how we'll contact you" once the profile is confirmed
with them and after any change.

Both are outbox messages like any other, so the dispatcher and the gate decide when and
how they go (safe hours, consent, discreet words); a welcome nothing can carry becomes a
task for a person there. The summary goes only where details are safe, or by letter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import ExpertStatus, MessageStatus, Purpose
from store.models import Expert, Message

# A welcome or a summary still worth sending this long after it was planned.
STILL_USEFUL = timedelta(days=14)
REPLACED = "a newer summary of how we contact them replaces it"


def welcome_key(expert_id: int) -> str:
    return f"welcome:exp{expert_id}"


async def queue_welcome(session: AsyncSession, expert: Expert, now: datetime) -> Message | None:
    """Plan their welcome, once in their life: None when one was ever planned, or they left."""
    if expert.status is ExpertStatus.WITHDRAWN:
        return None
    key = welcome_key(expert.id)
    if await session.scalar(select(Message.id).where(Message.idempotency_key == key)):
        return None
    message = _message(expert, Purpose.WELCOME, key, now)
    session.add(message)
    return message


async def queue_summary(session: AsyncSession, expert: Expert, now: datetime) -> Message | None:
    """Plan "how we'll contact you" after a change, once the profile has been confirmed
    with them. A summary still waiting is replaced, so several changes in a row send one."""
    if expert.status is ExpertStatus.WITHDRAWN or expert.safe_contact_confirmed_at is None:
        return None
    waiting = list(
        await session.scalars(
            select(Message).where(
                Message.expert_id == expert.id,
                Message.purpose == Purpose.AGREEMENT,
                Message.status == MessageStatus.PENDING,
            )
        )
    )
    for message in waiting:
        if message.created_at == now:
            return message  # this same change already planned it
        message.move(MessageStatus.CANCELLED, REPLACED, now)
    key = f"agreement:exp{expert.id}:{now.timestamp():.6f}"
    message = _message(expert, Purpose.AGREEMENT, key, now)
    session.add(message)
    return message


def _message(expert: Expert, purpose: Purpose, key: str, now: datetime) -> Message:
    return Message(
        expert_id=expert.id,
        purpose=purpose,
        idempotency_key=key,
        due_at=now,
        next_attempt_at=now,
        not_after=now + STILL_USEFUL,
        status=MessageStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
