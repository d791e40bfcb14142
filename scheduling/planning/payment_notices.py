"""Paying a line, and telling the person it was sent, through the one gate like any
message: discreet words where the channel is not safe for details, the amount only where
it is. Several lines paid together make one message, not one each."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people.ledger import mark_paid
from scheduling.planning.planner import message_key
from store.enums import ExpertStatus, MessageStatus, Purpose
from store.models import Message, PaymentLine

# After a week, "we have sent it" is old news a person had better say themselves.
NOTICE_WINDOW = timedelta(days=7)


async def pay(session: AsyncSession, line: PaymentLine, *, now: datetime, actor: str) -> None:
    """Mark a line paid and plan the message that says so."""
    await mark_paid(session, line, now=now, actor=actor)
    await plan_payment_notice(session, line, now)


async def plan_payment_notice(
    session: AsyncSession, line: PaymentLine, now: datetime
) -> Message | None:
    invitation = line.invitation
    if invitation.expert.status is ExpertStatus.WITHDRAWN or line.amount_pence == 0:
        return None
    waiting = await session.scalar(
        select(Message).where(
            Message.expert_id == invitation.expert_id,
            Message.engagement_id == invitation.engagement_id,
            Message.purpose == Purpose.PAYMENT_SENT,
            Message.status == MessageStatus.PENDING,
        )
    )
    if waiting is not None:  # not sent yet: one message for everything paid together
        waiting.variant = (waiting.variant or 0) + line.amount_pence
        waiting.updated_at = now
        return waiting
    key = message_key(invitation.engagement_id, invitation.expert_id, Purpose.PAYMENT_SENT)
    message = Message(
        expert_id=invitation.expert_id,
        engagement_id=invitation.engagement_id,
        purpose=Purpose.PAYMENT_SENT,
        idempotency_key=f"{key}:{line.reference}",
        due_at=now,
        next_attempt_at=now,
        not_after=now + NOTICE_WINDOW,
        status=MessageStatus.PENDING,
        variant=line.amount_pence,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    await session.flush()
    return message
