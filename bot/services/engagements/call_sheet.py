"""The late-cancellation call list as a person works it in one pass: for each person who
still has to be phoned, whether their written notice went, the number to ring, whether calls
were agreed as safe, and their safe times, with a warning when none falls before the start.

Only for the people the caller may see: numbers and safe times are personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.contact_details import phone_for_people
from scheduling.people.cancellation_calls import cancel_call_key
from scheduling.rules.contact_rules import contact_rules, safe_windows
from scheduling.rules.windows import WindowError, next_allowed
from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import in_sentence
from store.enums import Channel, MessageStatus, Purpose
from store.models import Engagement, Expert, Invitation, Message, Task


@dataclass(frozen=True)
class CallRow:
    """One person to phone, with everything needed to make the call safely."""

    invitation: Invitation
    notice: str  # what happened to the written notice, in words
    number: str | None  # as people dial it; None when no number is recorded
    dial: str | None  # the same number for a tel: link (no spaces)
    phone_agreed: bool  # calls were confirmed as safe for them
    safe_times: str  # their safe times to call, in words
    no_safe_time_before_start: bool  # none of those times falls before it starts


async def call_rows(
    session: AsyncSession,
    engagement: Engagement,
    invitations: Sequence[Invitation],
    now: datetime,
) -> dict[int, CallRow]:
    """Per invitation id, the row for each person still to phone that the caller may see."""
    ids = [i.expert_id for i in invitations]
    if not ids:
        return {}
    experts = {
        e.id: e
        for e in await session.scalars(
            select(Expert)
            .where(Expert.id.in_(ids))
            .options(
                selectinload(Expert.contact_points),
                selectinload(Expert.consents),
                selectinload(Expert.windows),
            )
        )
    }
    notices = {
        m.expert_id: m
        for m in await session.scalars(
            select(Message)
            .where(
                Message.engagement_id == engagement.id,
                Message.purpose == Purpose.CANCELLATION,
                Message.expert_id.in_(ids),
            )
            .order_by(Message.id)
        )
    }
    return {
        i.id: _row(i, experts[i.expert_id], notices.get(i.expert_id), engagement, now)
        for i in invitations
        if i.expert_id in experts
    }


def _row(
    invitation: Invitation,
    expert: Expert,
    notice: Message | None,
    engagement: Engagement,
    now: datetime,
) -> CallRow:
    points = {p.channel: p for p in expert.contact_points}
    point = points.get(Channel.PHONE) or points.get(Channel.SMS)
    agreed = (
        point is not None
        and point.opted_out_at is None
        and any(c.channel is Channel.PHONE and c.allowed for c in expert.consents)
    )
    try:
        safe_times = "; ".join(w.describe() for w in safe_windows(expert, Channel.PHONE))
        first = next_allowed(now, contact_rules(expert, Channel.PHONE, now))
    except WindowError:
        safe_times, first = "their safe-contact settings need checking first", None
    number = phone_for_people(point.value) if point is not None else None
    return CallRow(
        invitation=invitation,
        notice=notice_in_words(notice, expert.time_zone),
        number=number,
        dial=point.value.replace(" ", "") if point is not None else None,
        phone_agreed=agreed,
        safe_times=safe_times,
        no_safe_time_before_start=first is None or first >= engagement.starts_at,
    )


def notice_in_words(notice: Message | None, tz: str) -> str:
    """What became of the written cancellation notice, said so a person can act on it."""
    if notice is None:
        return "No written notice: nothing they agreed to could carry it in time."
    how = f" by {in_sentence(notice.channel)}" if notice.channel is not None else ""
    status = notice.status
    if status in (MessageStatus.SENT, MessageStatus.DELIVERED) and notice.sent_at is not None:
        done = "delivered" if status is MessageStatus.DELIVERED else "sent"
        return (
            f"Written notice {done}{how} {spoken_datetime(notice.sent_at, tz)}, "
            "but it may not be read in time."
        )
    if status is MessageStatus.PENDING:
        held = spoken_datetime(notice.next_attempt_at, tz)
        why = "their safe hours or the limit on messages"
        return f"Written notice not sent yet: held until {held} ({why})."
    if status is MessageStatus.SENDING:
        return f"Written notice being sent{how} now."
    if status is MessageStatus.UNCERTAIN:
        return "Not sure the written notice went: a fault hid whether it was sent."
    if status is MessageStatus.HANDED_TO_PERSON:
        return "No written notice could go in time: your call is how they find out."
    if status is MessageStatus.FAILED:
        return "The written notice could not be sent: your call is how they find out."
    return "No written notice went."


async def told_notes(session: AsyncSession, engagement: Engagement) -> dict[int, str]:
    """Per expert id, the note left when their cancellation call was recorded."""
    keys = [cancel_call_key(engagement.id, i.expert_id) for i in engagement.invitations]
    rows = await session.scalars(select(Task).where(Task.dedupe_key.in_(keys)))
    return {
        t.expert_id: t.outcome
        for t in rows
        if t.expert_id is not None and t.outcome and t.outcome not in _NO_NOTE
    }


_NO_NOTE = frozenset({"Told by phone", "told verbally"})  # what is kept when no note was left
