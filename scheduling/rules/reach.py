"""What a person's channels can do, and when a call must happen to still help. Pure.

A plan is only kind if it can be kept: a reminder letter posted the day before never
arrives, so someone who only gets post has one letter in time that carries both. And a
message nothing can carry in time is not parked until it no longer matters: it becomes a
call while a call can still help, or, where calls are not safe, an urgent task for the
link worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduling.rules.router import CALL_TAKES, reachable
from store.enums import Channel, Purpose
from store.models import Expert

# Information in advance helps most the day before: time to plan travel and care.
PRE_BRIEF_CALL_AHEAD = timedelta(days=1)
# The least notice worth giving by phone: time to get there, or not set off.
LAST_CALL_AHEAD = timedelta(hours=2)
MACHINE_CHANNELS = (Channel.SMS, Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER)


@dataclass(frozen=True)
class Reach:
    """What the plan can count on for one person."""

    post_only: bool = False  # the only machine channel that reaches them is a letter
    phone: bool = False  # a person may phone them


def reach_of(expert: Expert) -> Reach:
    """Their chosen channels that are confirmed, verified and not opted out. A letter held
    during an address change still counts: the plan outlives the wait, and the router
    holds the letter itself when it is due."""
    usable = [c for c in expert.channel_order() if reachable(expert, c, hold_letters=False)]
    machine = [c for c in usable if c in MACHINE_CHANNELS]
    return Reach(post_only=machine == [Channel.LETTER], phone=phone_usable(expert))


def phone_usable(expert: Expert) -> bool:
    """A person may phone them: consent confirmed for calls, a verified number, no opt-out."""
    return reachable(expert, Channel.PHONE)


def call_by(purpose: Purpose, deadline: datetime | None, now: datetime) -> datetime:
    """When a call (or the link worker's other way of telling them) is due, so it still
    helps: news at once, information in advance the day before where there is time."""
    if deadline is None:
        return now + CALL_TAKES
    if purpose is Purpose.PRE_BRIEF:
        wanted = deadline - PRE_BRIEF_CALL_AHEAD
        if wanted < now + CALL_TAKES:
            wanted = deadline - LAST_CALL_AHEAD
    else:
        wanted = min(now + CALL_TAKES, deadline - LAST_CALL_AHEAD)
    return max(wanted, now)
