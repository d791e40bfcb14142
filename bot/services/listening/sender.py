"""Who wrote: the experts whose contact point has the sender's keyed hash, found by one
SELECT that also brings what the rules read of them and the latest question each was
asked. The statements are built once, so a reply pays for running them, not for
building them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from scheduling.rules.questions import CONTEXT_DAYS
from scheduling.sending.outbox import newest_question
from store.enums import Channel
from store.models import ContactPoint, Expert, Message, Staff

# What the rules read of the sender (the gate reads consent before any answer), joined
# into the same SELECT: a person has a handful of consents and contact points, so the
# joined rows stay few, where each separate load was a round trip on every reply.
_WHAT_RULES_READ = (
    joinedload(Expert.link_worker).joinedload(Staff.cover),
    joinedload(Expert.contact_points),
    joinedload(Expert.consents),
    joinedload(Expert.waiting_changes),
)

# The newest message that asked them something, sent within the context window, asked
# inside the SELECT.
_asked = aliased(Message)
_LATEST = (
    newest_question(_asked, bindparam("since"))
    .where(_asked.expert_id == Expert.id)
    .correlate(Expert)
    .scalar_subquery()
)

_BY_HASH = (
    select(Expert, Message)
    .join(ContactPoint, ContactPoint.expert_id == Expert.id)
    .outerjoin(Message, Message.id == _LATEST)
    .where(
        ContactPoint.channel == bindparam("channel"), ContactPoint.lookup_hash == bindparam("hash")
    )
    .options(
        *_WHAT_RULES_READ,
        # What an answer to it reads: its engagement and this person's invitation.
        joinedload(Message.engagement),
        joinedload(Message.invitation),
    )
)

_BY_ID = select(Expert).where(Expert.id == bindparam("id")).options(*_WHAT_RULES_READ)


async def by_hash(
    session: AsyncSession, channel: Channel, sender_hash: str, now: datetime
) -> list[tuple[Expert, Message | None]]:
    """Experts whose contact point on this channel has this keyed hash (opted out too:
    START must still reach us), each with the latest question they were asked."""
    since = now - timedelta(days=CONTEXT_DAYS)
    rows = await session.execute(
        _BY_HASH, {"channel": channel, "hash": sender_hash, "since": since}
    )
    return [(expert, question) for expert, question in rows.unique()]


async def by_id(session: AsyncSession, expert_id: int) -> Expert | None:
    """One expert with what the rules read of them."""
    rows = await session.scalars(_BY_ID, {"id": expert_id})
    return rows.unique().one_or_none()
