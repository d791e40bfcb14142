"""Which promises can be kept, decided before anything is said (pure, no I/O).

A discreet text can only promise the details when something can carry them: a channel the
person agreed may show full details (email or a letter: the long forms), or a call from
their link worker when phone is agreed. Otherwise the message says nothing of the kind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from store.enums import Channel
from store.models import Expert

# The channels long enough for full details; a text or a chat only says what fits.
FULL_DETAILS_CHANNELS = frozenset({Channel.EMAIL, Channel.LETTER})
# How long after the promise the follow-up message is planned, and the least time it has.
FOLLOW_UP_AFTER = timedelta(minutes=5)
LEAST_TIME = timedelta(hours=2)
OUTCOMES_TIME = timedelta(days=7)
COSTS_TIME = timedelta(days=14)


def _usable(expert: Expert, channel: Channel, *, details: bool) -> bool:
    consent = next((c for c in expert.consents if c.channel is channel), None)
    point = next((p for p in expert.contact_points if p.channel is channel), None)
    return (
        consent is not None
        and consent.allowed
        and (consent.details_safe or not details)
        and point is not None
        and point.opted_out_at is None
        and point.verified_at is not None
    )


def details_channels(expert: Expert) -> list[Channel]:
    """The agreed channels that may carry full details, in the person's order."""
    return [
        c
        for c in expert.channel_order()
        if c in FULL_DETAILS_CHANNELS and _usable(expert, c, details=True)
    ]


def not_for_details(expert: Expert) -> set[Channel]:
    """Channels a details message must never use for this person."""
    return set(Channel) - set(details_channels(expert))


def can_call(expert: Expert) -> bool:
    return _usable(expert, Channel.PHONE, details=False)


def can_follow_up(expert: Expert) -> bool:
    """True when a promise of details or news could be kept: a message or a call."""
    return bool(details_channels(expert)) or can_call(expert)


def promise_deadline(
    kind: str, made_at: datetime, starts_at: datetime | None, reminder_at: datetime | None
) -> datetime:
    """When the promise must have been kept: details before the reminder (or a day before
    the engagement), news of outcomes within a week, costs within a fortnight."""
    if kind == "outcomes":
        return made_at + OUTCOMES_TIME
    if kind != "details" or starts_at is None:
        return made_at + COSTS_TIME
    target = reminder_at if reminder_at is not None and reminder_at > made_at else None
    target = target or starts_at - timedelta(days=1)
    return min(max(target, made_at + LEAST_TIME), starts_at)
