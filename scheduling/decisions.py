"""Every rule checked at the moment of sending, as one function with no I/O.

The answer is either ``Send`` on a chosen route, or ``Finish``: defer to the next safe
time, suppress, cancel, or hand to a person. When in doubt the answer is to hold and
hand to a person: a missed message can be made up by a phone call, a message at the
wrong time or a duplicate cannot be taken back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from channels.base import MessageChannel
from scheduling.context import contact_rules
from scheduling.plan import CANCELLATION_NOTICE
from scheduling.router import Route, choose_route
from scheduling.windows import WindowError, next_allowed
from scheduling.wording import spoken_datetime
from store.enums import (
    AttemptOutcome,
    Channel,
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    Purpose,
    TaskKind,
)
from store.models import Message


@dataclass(frozen=True)
class Send:
    route: Route
    reason: str
    late_cancellation: bool = False  # the 24-hour rule needs people as well


@dataclass(frozen=True)
class Finish:
    status: MessageStatus
    reason: str
    task: TaskKind | None = None
    urgent: bool = False
    channel: Channel | None = None
    defer_until: datetime | None = None
    task_details: str | None = None
    late_cancellation: bool = False


Decision = Send | Finish


def decide(
    message: Message,
    channels: Mapping[Channel, MessageChannel],
    max_transient_per_channel: int,
    max_overdue: timedelta,
    now: datetime,
) -> Decision:
    stop = _person_rules(message, now) or _time_rules(message, max_overdue, now)
    if stop is not None:
        return stop
    routing = choose_route(
        message.expert,
        channels,
        now=now,
        deadline=message.not_after,
        exclude=_exhausted(message, max_transient_per_channel),
    )
    if routing.route is None:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"no safe channel left ({routing.explain()})",
            TaskKind.PHONE_CALL if message.purpose.essential else TaskKind.DELIVERY_PROBLEM,
            urgent=message.purpose.essential,
        )
    sender = channels.get(routing.route.channel)
    arrival = sender.earliest_arrival if sender is not None else (lambda moment: moment)
    return _window_rule(message, routing.route, routing.explain(), now, arrival)


def _person_rules(message: Message, now: datetime) -> Finish | None:
    expert, engagement = message.expert, message.engagement
    if expert.status is ExpertStatus.WITHDRAWN:
        return Finish(MessageStatus.SUPPRESSED, "they have withdrawn: nothing more is sent")
    if (
        engagement is not None
        and engagement.status is EngagementStatus.CANCELLED
        and message.purpose is not Purpose.CANCELLATION
    ):
        return Finish(MessageStatus.CANCELLED, "the engagement was cancelled")
    answer = _answer(message)
    if answer is InvitationAnswer.NO and message.purpose is not Purpose.CANCELLATION:
        return Finish(MessageStatus.SUPPRESSED, "they said no, so nothing more is sent about it")
    if _paused(message, now) and not (message.purpose.essential and answer is InvitationAnswer.YES):
        until = expert.paused_until.isoformat() if expert.paused_until else "they get in touch"
        return Finish(MessageStatus.SUPPRESSED, f"contact is paused until {until}")
    return None


def _answer(message: Message) -> InvitationAnswer | None:
    return message.invitation.answer if message.invitation is not None else None


def _paused(message: Message, now: datetime) -> bool:
    expert = message.expert
    if expert.status is ExpertStatus.PAUSED:
        return True
    if expert.paused_until is None:
        return False
    return now.astimezone(ZoneInfo(expert.time_zone)).date() < expert.paused_until


def _time_rules(message: Message, max_overdue: timedelta, now: datetime) -> Finish | None:
    if now - message.due_at > max_overdue:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"more than {max_overdue.days} days late, so it is not sent automatically",
            TaskKind.DELIVERY_PROBLEM,
        )
    if message.not_after is not None and now > message.not_after:
        return _too_late(message)
    return None


def _too_late(message: Message) -> Finish:
    if message.purpose.essential:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            "could not be sent in time; a person must tell them",
            TaskKind.PHONE_CALL,
            urgent=True,
            late_cancellation=message.purpose is Purpose.CANCELLATION,
        )
    return Finish(MessageStatus.SUPPRESSED, "too late to be useful")


def _exhausted(message: Message, max_transient: int) -> set[Channel]:
    """Channels that failed for good on this message, or kept failing."""
    transient: dict[Channel, int] = {}
    out: set[Channel] = set()
    for attempt in message.attempts_log:
        if attempt.outcome is AttemptOutcome.PERMANENT_FAILURE:
            out.add(attempt.channel)
        elif attempt.outcome is AttemptOutcome.TRANSIENT_FAILURE:
            transient[attempt.channel] = transient.get(attempt.channel, 0) + 1
    out.update(c for c, n in transient.items() if n >= max_transient)
    return out


def _window_rule(
    message: Message,
    route: Route,
    reason: str,
    now: datetime,
    arrival: Callable[[datetime], datetime],
) -> Decision:
    """``arrival`` says when a message handed over at a time reaches the person: a letter
    posted today can be days away, which matters for the 24-hour rule."""
    late = _late_cancellation(message, arrival(now))
    if route.channel is Channel.PHONE:
        return Send(route, reason, late)
    try:
        allowed_at = next_allowed(now, contact_rules(message.expert, route.channel))
    except WindowError as exc:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"safe-contact settings cannot be used ({exc})",
            TaskKind.DELIVERY_PROBLEM,
        )
    if allowed_at is None:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            "no safe time to send in the coming year",
            TaskKind.DELIVERY_PROBLEM,
        )
    if allowed_at <= now:
        return Send(route, reason, late)
    if message.not_after is not None and allowed_at > message.not_after:
        return _too_late(message)
    when = spoken_datetime(allowed_at, message.expert.time_zone)
    return Finish(
        MessageStatus.PENDING,
        f"outside their safe hours for {route.channel.value}; held until {when}",
        channel=route.channel,
        defer_until=allowed_at,
        late_cancellation=_late_cancellation(message, arrival(allowed_at)),
    )


def _late_cancellation(message: Message, send_at: datetime) -> bool:
    engagement = message.engagement
    return (
        message.purpose is Purpose.CANCELLATION
        and engagement is not None
        and send_at > engagement.starts_at - CANCELLATION_NOTICE
    )
