"""Every rule checked at the moment of sending, as one function with no I/O.

The answer is either ``Send`` on a chosen route, or ``Finish``: defer to the next safe
time, suppress, cancel, or hand to a person. When in doubt the answer is to hold and
hand to a person: a missed message can be made up by a phone call, a message at the
wrong time or a duplicate cannot be taken back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from channels.base import MessageChannel
from scheduling.rules.agreement import not_for_summary
from scheduling.rules.contact_rules import contact_rules
from scheduling.rules.frequency import FrequencyCap, lands_on_the_day, next_within_cap
from scheduling.rules.plan import AFTER_MEETING, CANCELLATION_NOTICE
from scheduling.rules.promises import FULL_DETAILS_CHANNELS, not_for_details
from scheduling.rules.reach import call_by, phone_usable
from scheduling.rules.router import Route, choose_route, fastest_route
from scheduling.rules.windows import WindowError, next_allowed
from scheduling.rules.wording import spoken_datetime
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
from store.models import Invitation, Message


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
    # When the person's task is due (so it still helps); the message's deadline if unset.
    due_at: datetime | None = None
    # Nothing can reach them in time and calls are not agreed: the link worker must find
    # another way, and the task says what they will miss.
    unreachable: bool = False


Decision = Send | Finish


# How long transient failures may go on before a person takes over: news that changes
# someone's plans cannot wait, a hello can.
RETRY_BUDGET = {
    Purpose.CANCELLATION: timedelta(hours=1),
    Purpose.TIME_CHANGED: timedelta(hours=1),
    Purpose.REMINDER: timedelta(hours=3),
    Purpose.PRE_BRIEF: timedelta(hours=6),
    Purpose.CHECK_IN: timedelta(hours=12),
    Purpose.DE_BRIEF: timedelta(hours=24),
    Purpose.FEEDBACK: timedelta(hours=24),
    Purpose.PASTORAL: timedelta(hours=24),
}


@dataclass(frozen=True)
class Limits:
    """The organisation's limits the rules apply (from settings)."""

    max_transient_per_channel: int = 5
    max_overdue: timedelta = timedelta(days=7)
    cap: FrequencyCap = field(default_factory=FrequencyCap)


def decide(
    message: Message,
    channels: Mapping[Channel, MessageChannel],
    limits: Limits,
    now: datetime,
    recent: Sequence[datetime] = (),
) -> Decision:
    """``recent``: when this person was last sent messages the cap counts."""
    stop = (
        _person_rules(message, now)
        or _hold_rule(message, now)
        or _time_rules(message, limits.max_overdue, now)
        or _approval_rule(message)
        or _retry_budget_rule(message, now)
    )
    if stop is not None:
        return stop
    if message.purpose.capped:
        capped = _cap_rule(message, limits.cap, recent, now)
        if capped is not None:
            return capped
    exclude = _exhausted(message, limits.max_transient_per_channel, now)
    if message.purpose is Purpose.DETAILS:
        exclude |= not_for_details(message.expert)  # the details go only where they are safe
    elif message.purpose is Purpose.STATEMENT:
        # Amounts and what for: only by email (with the PDF) or letter, where details are safe.
        exclude |= not_for_details(message.expert) | (set(Channel) - FULL_DETAILS_CHANNELS)
    elif message.purpose is Purpose.AGREEMENT:
        exclude |= not_for_summary(message.expert)  # where details are safe, or a letter
    if message.purpose is Purpose.WRITTEN and message.channel is not None:
        # Staff wrote for one channel and saw its preview: never another in its place.
        exclude |= set(Channel) - {message.channel}
    routing = (
        fastest_route(message.expert, channels, message.not_after, exclude, now)
        if message.purpose.essential
        else choose_route(
            message.expert, channels, now=now, deadline=message.not_after, exclude=exclude
        )
    )
    if routing.route is None:
        why = f"no safe channel left ({routing.explain()})"
        if _must_reach(message):
            return _person_tells_them(message, why, now)
        return Finish(MessageStatus.HANDED_TO_PERSON, why, TaskKind.DELIVERY_PROBLEM)
    sender = channels.get(routing.route.channel)
    arrival = sender.earliest_arrival if sender is not None else (lambda moment: moment)
    return _window_rule(message, routing.route, routing.explain(), now, arrival)


def _must_reach(message: Message) -> bool:
    """News that changes plans, and the information someone needs before they come."""
    return message.purpose.essential or message.purpose is Purpose.PRE_BRIEF


def _person_tells_them(message: Message, why: str, now: datetime) -> Finish:
    """Nothing written can reach them in time: a call due while it still helps (urgent
    for news), or, with no consent to phone, an urgent task for the link worker."""
    essential = message.purpose.essential
    due = call_by(message.purpose, message.not_after, now)
    if phone_usable(message.expert):
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"{why}; a person must tell them" if essential else f"{why}; a person phones them",
            TaskKind.PHONE_CALL,
            urgent=essential,
            due_at=due,
            late_cancellation=message.purpose is Purpose.CANCELLATION,
        )
    return Finish(
        MessageStatus.HANDED_TO_PERSON,
        f"{why}; no agreed way to phone them, so their link worker must find one",
        TaskKind.DELIVERY_PROBLEM,
        urgent=True,
        due_at=due,
        unreachable=True,
        late_cancellation=message.purpose is Purpose.CANCELLATION,
    )


def _person_rules(message: Message, now: datetime) -> Finish | None:
    expert, engagement = message.expert, message.engagement
    if expert.status is ExpertStatus.WITHDRAWN and message.purpose is not Purpose.GOODBYE:
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
    invitation = message.invitation
    if message.purpose in AFTER_MEETING and invitation is not None and not came(invitation):
        return Finish(
            MessageStatus.SUPPRESSED,
            "they did not come (or never said yes), so nothing about the day is sent",
        )
    return None


HOLD_RECHECK = timedelta(hours=1)


def _hold_rule(message: Message, now: datetime) -> Finish | None:
    """After a worrying reply no machine writes to them until a person has looked (R-2.4):
    news that changes their plans becomes a call; the rest waits for the hold to lift."""
    if message.expert.held_since is None:
        return None
    if message.purpose.essential:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            "messages are on hold after a worrying reply, so a person tells them instead",
            TaskKind.PHONE_CALL,
            urgent=True,
        )
    return Finish(
        MessageStatus.PENDING,
        "on hold after a worrying reply until a person has looked",
        defer_until=now + HOLD_RECHECK,
    )


def came(invitation: Invitation) -> bool:
    """Attendance when it was recorded; otherwise their own yes."""
    if invitation.attended is not None:
        return invitation.attended
    return invitation.answer is InvitationAnswer.YES


def _approval_rule(message: Message) -> Finish | None:
    if message.needs_approval and message.approved_at is None:
        return Finish(
            MessageStatus.SUPPRESSED,
            "the link worker did not approve this draft, so it was not sent",
        )
    return None


def _retry_budget_rule(message: Message, now: datetime) -> Finish | None:
    failures = [
        a.started_at for a in message.attempts_log if a.outcome is AttemptOutcome.TRANSIENT_FAILURE
    ]
    budget = RETRY_BUDGET.get(message.purpose, timedelta(hours=24))
    if failures and now - min(failures) >= budget:
        hours = budget.total_seconds() / 3600
        span = "an hour" if hours == 1 else f"{hours:g} hours"
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"still failing after {span} of tries; a person takes over",
            TaskKind.PHONE_CALL if message.purpose.essential else TaskKind.DELIVERY_PROBLEM,
            urgent=message.purpose.essential,
        )
    return None


def _cap_rule(
    message: Message, cap: FrequencyCap, recent: Sequence[datetime], now: datetime
) -> Finish | None:
    allowed = next_within_cap(recent, now, message.expert.time_zone, cap)
    if allowed <= now:
        return None
    engagement = message.engagement
    if (
        message.purpose is Purpose.REMINDER
        and engagement is not None
        and lands_on_the_day(allowed, now, engagement.starts_at, message.expert.time_zone)
    ):
        return None  # a reminder the day before is the point of it; the cap yields once
    if message.not_after is not None and allowed > message.not_after:
        return _too_late(message, now, "they have had as many messages as agreed for now")
    when = spoken_datetime(allowed, message.expert.time_zone)
    return Finish(
        MessageStatus.PENDING,
        f"they have had {cap.per_day} a day / {cap.per_week} a week already; held until {when}",
        defer_until=allowed,
    )


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
        return _too_late(message, now)
    return None


def _too_late(message: Message, now: datetime, why: str = "could not be sent in time") -> Finish:
    if _must_reach(message) and (message.not_after is None or now < message.not_after):
        return _person_tells_them(message, why, now)
    if message.purpose.essential:
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"{why}; a person must tell them",
            TaskKind.PHONE_CALL,
            urgent=True,
            late_cancellation=message.purpose is Purpose.CANCELLATION,
        )
    if message.purpose is Purpose.PRE_BRIEF:
        # They still need the information in advance: a person goes through it with them.
        return Finish(
            MessageStatus.HANDED_TO_PERSON,
            f"{why}; a person goes through the pre-brief with them",
            TaskKind.PHONE_CALL,
        )
    return Finish(MessageStatus.SUPPRESSED, f"{why}, so it was dropped")


def _exhausted(message: Message, max_transient: int, now: datetime) -> set[Channel]:
    """Channels that failed for good on this message, or kept failing: too many times,
    or for half the message's retry budget (so the next channel still has time)."""
    transient: dict[Channel, list[datetime]] = {}
    out: set[Channel] = set()
    for attempt in message.attempts_log:
        if attempt.outcome is AttemptOutcome.PERMANENT_FAILURE:
            out.add(attempt.channel)
        elif attempt.outcome is AttemptOutcome.TRANSIENT_FAILURE:
            transient.setdefault(attempt.channel, []).append(attempt.started_at)
    half = RETRY_BUDGET.get(message.purpose, timedelta(hours=24)) / 2
    out.update(
        channel
        for channel, times in transient.items()
        if len(times) >= max_transient or now - min(times) >= half
    )
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
        allowed_at = next_allowed(now, contact_rules(message.expert, route.channel, now))
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
        return _too_late(message, now)
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
