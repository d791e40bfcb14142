"""After a cancellation: recording who was told in person or by phone (the 24-hour rule),
and who is still to be phoned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.contact_details import phone_for_people
from bot.services.engagements.rules import EngagementError, may_record_told, refuse
from scheduling.people.cancellation_calls import (
    ToldOutcome,
    record_told_verbally,
    still_to_phone,
    undo_told_verbally,
    venue_task,
)
from store import audit
from store.enums import Channel, Purpose, TaskStatus
from store.models import ContactPoint, Engagement, Expert, Invitation, Message, Task


@dataclass(frozen=True)
class ToldResult:
    invitation: Invitation
    already_recorded: bool  # told before: the first time is kept
    outcome: ToldOutcome


@dataclass(frozen=True)
class CallList:
    still_to_phone: list[Invitation]
    told: list[Invitation]
    venue: Task | None  # open while someone may still turn up not knowing


async def record_told(
    session: AsyncSession,
    engagement: Engagement,
    expert: Expert,
    *,
    note: str | None,
    now: datetime,
    actor: str,
) -> ToldResult:
    """Record that a person told them the engagement is cancelled, in person or by phone."""
    who = expert.ref or str(expert.id)
    refuse(may_record_told(engagement))
    invitation = next((i for i in engagement.invitations if i.expert_id == expert.id), None)
    if invitation is None:
        raise EngagementError(f"expert {who} is not invited to engagement {engagement.id}")
    already = invitation.told_verbally_at is not None
    outcome = await record_told_verbally(session, engagement, invitation, note, now)
    audit.record(
        session,
        actor=actor,
        action="invitation.told_verbally",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
        expert_id=expert.id,
    )
    return ToldResult(invitation, already, outcome)


async def undo_told(
    session: AsyncSession,
    engagement: Engagement,
    invitation: Invitation,
    *,
    now: datetime,
    actor: str,
) -> bool:
    """Take back a "told by phone" recorded by mistake; False when none was recorded."""
    refuse(may_record_told(engagement))
    undone = await undo_told_verbally(session, engagement, invitation)
    if undone:
        audit.record(
            session,
            actor=actor,
            action="invitation.told_verbally_undone",
            entity="engagement",
            entity_id=engagement.id,
            at=now,
            expert_id=invitation.expert_id,
        )
    return undone


async def cancellation_calls(session: AsyncSession, engagement: Engagement) -> CallList:
    """Who still needs phoning, who was told and when, and whether the venue needs someone."""
    remaining = await still_to_phone(session, engagement)
    venue = await venue_task(session, engagement.id)
    return CallList(
        still_to_phone=[i for i in engagement.invitations if i.expert_id in remaining],
        told=sorted(
            (i for i in engagement.invitations if i.told_verbally_at is not None),
            key=lambda i: (i.told_verbally_at, i.id),
        ),
        venue=venue if venue is not None and venue.status is TaskStatus.OPEN else None,
    )


async def phone_numbers(session: AsyncSession, expert_ids: Sequence[int]) -> dict[int, str]:
    """The number to ring each expert on, as people dial it in the UK: their phone contact,
    else their texting number. Only for people the caller may see."""
    if not expert_ids:
        return {}
    points = await session.scalars(
        select(ContactPoint).where(
            ContactPoint.expert_id.in_(expert_ids),
            ContactPoint.channel.in_((Channel.PHONE, Channel.SMS)),
        )
    )
    found: dict[int, dict[Channel, str]] = {}
    for point in points:
        found.setdefault(point.expert_id, {})[point.channel] = point.value
    return {
        expert_id: phone_for_people(by_channel.get(Channel.PHONE) or by_channel[Channel.SMS])
        for expert_id, by_channel in found.items()
    }


async def cancellation_notified(session: AsyncSession, engagement_id: int) -> set[int]:
    """Experts a written cancellation notice was planned for: told by message, whatever
    happens to it (a notice that cannot go in time opens a phone task as well)."""
    rows = await session.scalars(
        select(Message.expert_id).where(
            Message.engagement_id == engagement_id, Message.purpose == Purpose.CANCELLATION
        )
    )
    return set(rows)
