"""The plan as it will really happen, for staff: each waiting message's channel and the
time it actually goes, after safe hours, the frequency cap and the post. Pure.

A plan that says "reminder, Monday 10:00" while the cap holds it to Tuesday morning, or a
letter that would land after the meeting, misleads the person checking it. This applies
the same rules the dispatcher applies at send time, to what is known now (consent,
windows, pause, hold, what was sent this week), so every page can warn before it happens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from channels.base import MessageChannel
from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.frequency import FrequencyCap, lands_on_the_day, next_within_cap
from scheduling.rules.router import RoutingDecision, choose_route, fastest_route
from scheduling.rules.windows import WindowError, next_allowed
from store.enums import Channel, ExpertStatus, MessageStatus, Purpose
from store.models import Engagement, Expert, Message

# Messages whose whole point is to arrive before the engagement starts.
BEFORE = frozenset({Purpose.PRE_BRIEF, Purpose.REMINDER, Purpose.TIME_CHANGED})


@dataclass(frozen=True)
class Expected:
    """One message as it is expected to go; ``late`` when it would come too late."""

    message: Message
    channel: Channel | None  # None: nothing can carry it, a person is asked instead
    goes_at: datetime | None  # handed to the channel (or the call task is due)
    arrives_at: datetime | None  # in the person's hands (a letter takes days)
    late: bool
    note: str  # what staff should know, in plain words; "" when all is as planned


def expected_plan(
    messages: Sequence[Message],
    expert: Expert,
    engagements: Mapping[int, Engagement],
    channels: Mapping[Channel, MessageChannel],
    cap: FrequencyCap,
    sent_this_week: Sequence[datetime],
    now: datetime,
) -> list[Expected]:
    """Walk one expert's messages in order, as the dispatcher would meet them.

    ``engagements``: the engagements these messages are about, by id (a keeping-in-touch
    message is about none)."""
    counted = list(sent_this_week)
    out: list[Expected] = []
    for message in sorted(messages, key=lambda m: (m.next_attempt_at, m.id or 0)):
        if message.status is not MessageStatus.PENDING:
            out.append(Expected(message, message.channel, message.sent_at, None, False, ""))
            continue
        engagement = engagements.get(message.engagement_id) if message.engagement_id else None
        expected = _one(message, expert, engagement, channels, cap, counted, now)
        if message.purpose.capped and expected.goes_at is not None:
            counted.append(expected.goes_at)
        out.append(expected)
    return out


def _one(
    message: Message,
    expert: Expert,
    engagement: Engagement | None,
    channels: Mapping[Channel, MessageChannel],
    cap: FrequencyCap,
    counted: Sequence[datetime],
    now: datetime,
) -> Expected:
    at = max(message.next_attempt_at, now)
    stopped = _stopped(message, expert, at)
    if stopped:
        return Expected(message, None, None, None, False, stopped)
    notes: list[str] = []
    if expert.held_since is not None:
        notes.append("on hold after a worrying reply until a person has looked")
    if message.purpose.capped:
        allowed = next_within_cap(counted, at, expert.time_zone, cap)
        yields = (
            message.purpose is Purpose.REMINDER
            and engagement is not None
            and lands_on_the_day(allowed, at, engagement.starts_at, expert.time_zone)
        )
        if allowed > at and not yields:
            at = allowed
            notes.append("held back by the limit on messages")
    routing = _route(message, expert, channels, at)
    route = routing.route
    if route is None:
        return Expected(
            message, None, None, None, True, "Nothing can reach them in time: a person is asked"
        )
    if route.channel is Channel.PHONE:
        return Expected(message, Channel.PHONE, at, at, False, "A person phones them")
    try:
        goes = next_allowed(at, contact_rules(expert, route.channel, at))
    except WindowError:
        goes = None
    if goes is None:
        return Expected(message, route.channel, None, None, True, "No safe time to send it")
    if goes > at:
        notes.append("waits for their safe hours")
    sender = channels.get(route.channel)
    arrives = sender.earliest_arrival(goes) if sender is not None else goes
    late = (message.not_after is not None and arrives > message.not_after) or (
        engagement is not None and message.purpose in BEFORE and arrives > engagement.starts_at
    )
    if late:
        notes.append("would arrive after the engagement starts")
    note = "; ".join(notes)
    return Expected(message, route.channel, goes, arrives, late, note[:1].upper() + note[1:])


def _stopped(message: Message, expert: Expert, at: datetime) -> str:
    """Why the dispatcher will not send it at all, as things stand; "" when it may go."""
    if expert.status is ExpertStatus.WITHDRAWN:
        return "Will not be sent: they have withdrawn"
    if message.needs_approval and message.approved_at is None:
        return "Waits for their link worker to approve it"
    paused = expert.status is ExpertStatus.PAUSED or (
        expert.paused_until is not None
        and at.astimezone(ZoneInfo(expert.time_zone)).date() < expert.paused_until
    )
    if paused and not message.purpose.essential:
        return "Will not be sent while their contact is paused"
    return ""


def _route(
    message: Message, expert: Expert, channels: Mapping[Channel, MessageChannel], at: datetime
) -> RoutingDecision:
    if message.purpose.essential:
        return fastest_route(expert, channels, message.not_after, (), at)
    return choose_route(expert, channels, now=at, deadline=message.not_after)
