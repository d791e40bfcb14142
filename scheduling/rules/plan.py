"""The contact plan: which messages an invitation needs, and when. Pure functions only.

Support before, during and after every piece of work: a pre-brief some days ahead, a
reminder the day before and a check-in afterwards, each aimed at a set local time of day.
Safe-contact windows are applied later, at send time, so a plan never needs redoing when
someone's safe hours change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.rules.reach import Reach
from scheduling.rules.windows import WindowError, load_zone
from store.enums import Purpose
from store.errors import Refused

# The charter: at least 24 hours' notice of a cancellation, or people are told in person.
CANCELLATION_NOTICE = timedelta(hours=24)


class PlanError(Refused):
    """Contradictory plan settings or impossible engagement times, in words a person can fix."""


@dataclass(frozen=True)
class PlanOffsets:
    pre_brief_days: int = 7  # days before the start
    reminder_days: int = 1  # days before the start
    check_in_days: int = 1  # days after the end (0: a few hours after it ends)
    de_brief_days: int = 3  # days after the end: time to talk it over, once it has settled
    send_at: time = time(10)  # local time of day to aim for

    def validate(self) -> PlanOffsets:
        if self.pre_brief_days < 1:
            raise PlanError(
                "the pre-brief must be at least 1 day before the meeting "
                f"(pre_brief_days is {self.pre_brief_days})"
            )
        if self.reminder_days < 1:
            raise PlanError("the reminder must be at least 1 day before the meeting")
        if self.reminder_days >= self.pre_brief_days:
            raise PlanError(
                "the reminder must come after the pre-brief: reminder_days "
                f"({self.reminder_days}) must be smaller than pre_brief_days "
                f"({self.pre_brief_days})"
            )
        if not 0 <= self.check_in_days <= 30:
            raise PlanError("the check-in must be between 0 and 30 days after the meeting")
        if not 1 <= self.de_brief_days <= 30:
            raise PlanError("the de-brief must be between 1 and 30 days after the meeting")
        if self.de_brief_days <= self.check_in_days:
            raise PlanError(
                "the de-brief must come after the check-in: de_brief_days "
                f"({self.de_brief_days}) must be larger than check_in_days "
                f"({self.check_in_days})"
            )
        if not time(7) <= self.send_at <= time(21):
            raise PlanError(
                f"send_at must be a daytime hour between 07:00 and 21:00, not {self.send_at:%H:%M}"
            )
        return self

    def with_overrides(self, overrides: Mapping[str, Any]) -> PlanOffsets:
        """Apply per-engagement or per-expert overrides, refusing unknown or bad values."""
        known = {f.name for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise PlanError(f"unknown plan setting {name!r}: use one of {sorted(known)}")
            if name == "send_at":
                changes[name] = value if isinstance(value, time) else _parse_time(str(value))
            else:
                try:
                    changes[name] = int(value)
                except (TypeError, ValueError):
                    raise PlanError(
                        f"{name} must be a whole number of days, not {value!r}"
                    ) from None
        return replace(self, **changes).validate()


def _parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise PlanError(f"send_at must be a time like 10:00, not {text!r}") from None


@dataclass(frozen=True)
class PlannedMessage:
    purpose: Purpose
    due_at: datetime
    not_after: datetime | None  # after this, sending is pointless: a person takes over


def check_engagement_times(starts_at: datetime, ends_at: datetime, tz: str) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise PlanError("engagement times need a time zone")
    if ends_at <= starts_at:
        raise PlanError("an engagement must end after it starts")
    if ends_at - starts_at > timedelta(days=14):
        raise PlanError("an engagement cannot last more than 14 days; split it into sessions")
    try:
        load_zone(tz)
    except WindowError:
        raise PlanError(f"unknown time zone {tz!r} (example: Europe/London)") from None


def _local_at(moment: datetime, days: int, at: time, tz: ZoneInfo) -> datetime:
    day = moment.astimezone(tz).date() + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


# Someone every kind of message can reach in time (the plan as it always was).
EVERY_CHANNEL = Reach()
# Check-in and de-brief: never in the same minute, nor the same day.
APART = timedelta(days=1)
# Long enough for a letter posted on a working day to arrive, over a weekend or holiday.
POST_TAKES = timedelta(days=7)


def plan_invitation(
    starts_at: datetime,
    ends_at: datetime,
    tz: str,
    offsets: PlanOffsets,
    *,
    now: datetime,
    reach: Reach = EVERY_CHANNEL,
) -> list[PlannedMessage]:
    """The messages one invited expert should get for one engagement.

    Invited late? The pre-brief goes as soon as allowed, and a reminder that would land
    within half a day of it is dropped rather than sent twice in a row.

    ``reach``: what their channels can do. When a letter is the only written way to reach
    them, a reminder letter posted the day before cannot arrive, so the pre-brief letter
    carries the reminder; the check-in is a call when calls are agreed, otherwise it gets
    time to come by post and the de-brief follows a week later.
    The check-in and de-brief are always at least a day apart: the check-in's deadline
    is a day before the de-brief is due, so a held check-in never meets it.
    """
    check_engagement_times(starts_at, ends_at, tz)
    offsets.validate()
    zone = ZoneInfo(tz)
    plan: list[PlannedMessage] = []
    if now < starts_at:
        pre_brief = max(_local_at(starts_at, -offsets.pre_brief_days, offsets.send_at, zone), now)
        plan.append(PlannedMessage(Purpose.PRE_BRIEF, pre_brief, starts_at))
        reminder = _local_at(starts_at, -offsets.reminder_days, offsets.send_at, zone)
        if not reach.post_only and reminder >= now and reminder - pre_brief >= timedelta(hours=12):
            plan.append(PlannedMessage(Purpose.REMINDER, reminder, starts_at))
    if offsets.check_in_days == 0:
        check_in = ends_at + timedelta(hours=2)
    else:
        check_in = _local_at(ends_at, offsets.check_in_days, offsets.send_at, zone)
    de_brief = _local_at(ends_at, offsets.de_brief_days, offsets.send_at, zone)
    by_post = reach.post_only and not reach.phone
    earliest_de_brief = check_in + (POST_TAKES + APART if by_post else APART)
    while de_brief < earliest_de_brief:  # whole days, so it stays at the same local time
        de_brief = _local_at(de_brief, 1, de_brief.astimezone(zone).time(), zone)
    if check_in >= now:
        check_in_by = min(check_in + timedelta(days=3), de_brief - APART)
        if by_post:
            check_in_by = de_brief - APART
        plan.append(PlannedMessage(Purpose.CHECK_IN, check_in, check_in_by))
    if de_brief >= now:
        # Still worth having a week on, so a letter can carry it too.
        plan.append(PlannedMessage(Purpose.DE_BRIEF, de_brief, de_brief + timedelta(days=10)))
    return plan


def describe_offsets(offsets: PlanOffsets) -> dict[str, str]:
    """The settings in words, for link workers checking what a plan will do."""
    return {
        "pre_brief_days": f"pre-brief {offsets.pre_brief_days} days before",
        "reminder_days": f"reminder {offsets.reminder_days} days before",
        "check_in_days": (
            "check-in a couple of hours after it ends"
            if offsets.check_in_days == 0
            else f"check-in {offsets.check_in_days} days after"
        ),
        "de_brief_days": f"de-brief {offsets.de_brief_days} days after",
        "send_at": f"aimed at {offsets.send_at:%H:%M} their time",
    }


# Messages sent after the meeting are only for people who came.
AFTER_MEETING = frozenset({Purpose.CHECK_IN, Purpose.DE_BRIEF, Purpose.FEEDBACK})
