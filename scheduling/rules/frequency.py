"""The frequency cap: how many non-essential messages one person gets. Pure functions only.

Being asked again and again is a known harm, so pre-briefs, reminders, feedback and
pastoral messages together stay under a daily and a weekly limit (``Purpose.capped``).
Cancellations and changes of time are exempt: not hearing of them does more harm; so are
check-ins and de-briefs, the support owed after a piece of work. A reminder due the day
before is never pushed onto the day itself by the cap: that is how "see you tomorrow"
became a same-morning message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store.errors import Refused

WEEK = timedelta(days=7)


class CapError(Refused):
    pass


@dataclass(frozen=True)
class FrequencyCap:
    per_day: int = 1  # per calendar day on the person's own clock
    per_week: int = 3  # in any seven days

    def __post_init__(self) -> None:
        if self.per_day < 1 or self.per_week < 1:
            raise CapError("the frequency cap must allow at least one message a day and a week")
        if self.per_day > self.per_week:
            raise CapError(
                f"the daily cap ({self.per_day}) cannot be more than the weekly cap "
                f"({self.per_week})"
            )


def next_within_cap(
    earlier: Sequence[datetime], now: datetime, tz: str, cap: FrequencyCap
) -> datetime:
    """The earliest moment at or after ``now`` when one more message keeps within the cap.

    ``earlier`` are the times capped messages to this person were handed to a provider;
    only the last seven days matter.
    """
    zone = ZoneInfo(tz)
    recent = sorted(t.astimezone(UTC) for t in earlier if t > now - WEEK)
    moment = now.astimezone(UTC)
    # Each step moves past one message or one full day, so this ends in a few steps.
    for _ in range(2 * len(recent) + 2):
        day_start = _local_midnight(moment, zone, 0)
        day_end = _local_midnight(moment, zone, 1)
        if sum(1 for t in recent if day_start <= t < day_end) >= cap.per_day:
            moment = day_end
            continue
        window = [t for t in recent if t > moment - WEEK]
        if len(window) >= cap.per_week:
            moment = window[len(window) - cap.per_week] + WEEK
            continue
        return moment
    return moment


def lands_on_the_day(held_until: datetime, now: datetime, event: datetime, tz: str) -> bool:
    """Holding a message until ``held_until`` would move it from before the event's day
    onto that day (or later): a "see you tomorrow" that arrives the same morning."""
    zone = ZoneInfo(tz)
    day = event.astimezone(zone).date()
    return now.astimezone(zone).date() < day <= held_until.astimezone(zone).date()


def _local_midnight(moment: datetime, zone: ZoneInfo, days_ahead: int) -> datetime:
    day = moment.astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
