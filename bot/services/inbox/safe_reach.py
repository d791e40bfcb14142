"""How to reach someone safely after a worrying reply, from their contact rules: the ways
they agreed to, their safe times on each, the number to ring when calls are agreed, and
whether now is inside those times. A reply page says "get in touch in the way that is safe
for them"; this is that way, so nobody has to go looking for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.contact_details import phone_for_people
from scheduling.rules.contact_rules import contact_rules, safe_windows
from scheduling.rules.windows import WindowError, is_allowed, next_allowed
from scheduling.rules.wording import spoken_datetime
from scheduling.text.words import label
from store.enums import Channel
from store.models import Expert


@dataclass(frozen=True)
class Way:
    """One agreed way to reach them, and when it is safe."""

    channel: str  # in words
    preferred: bool
    safe_times: str
    safe_now: bool
    next_safe: str | None  # when it is not safe now: the next safe time, in words


@dataclass(frozen=True)
class SafeReach:
    ways: list[Way]
    phone: str | None  # the number as people dial it, when calls are agreed
    dial: str | None  # the same for a tel: link
    on_hold: bool  # automated messages to them wait until a person has looked


async def safe_reach(session: AsyncSession, expert_id: int, now: datetime) -> SafeReach | None:
    """The safe ways to reach one expert now; None when there is no such expert."""
    expert = await session.scalar(
        select(Expert)
        .where(Expert.id == expert_id)
        .options(
            selectinload(Expert.contact_points),
            selectinload(Expert.consents),
            selectinload(Expert.windows),
        )
    )
    if expert is None:
        return None
    agreed = {c.channel for c in expert.consents if c.allowed}
    points = {p.channel: p for p in expert.contact_points if p.opted_out_at is None}
    order = [*expert.channel_order(), *Channel]
    usable = [
        c
        for c in dict.fromkeys(order)
        if c in agreed and (c in points or (c is Channel.PHONE and Channel.SMS in points))
    ]
    ways = [_way(expert, c, c is expert.preferred_channel, now) for c in usable]
    number = points.get(Channel.PHONE) or points.get(Channel.SMS)
    calls = Channel.PHONE in usable and number is not None
    return SafeReach(
        ways=ways,
        phone=phone_for_people(number.value) if calls and number else None,
        dial=number.value.replace(" ", "") if calls and number else None,
        on_hold=expert.held_since is not None,
    )


def _way(expert: Expert, channel: Channel, preferred: bool, now: datetime) -> Way:
    try:
        times = "; ".join(w.describe() for w in safe_windows(expert, channel))
        rules = contact_rules(expert, channel, now)
        safe_now = is_allowed(now, rules)
        following = None if safe_now else next_allowed(now, rules)
    except WindowError:
        return Way(label(channel), preferred, "their safe times need checking first", False, None)
    return Way(
        channel=label(channel),
        preferred=preferred,
        safe_times=times,
        safe_now=safe_now,
        next_safe=spoken_datetime(following, expert.time_zone) if following else None,
    )
