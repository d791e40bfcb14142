"""Which hours and days are safe for one person on one channel."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from channels.working_days import scottish_bank_holidays
from scheduling.rules.windows import DEFAULT_WINDOW, ContactRules, SafeWindow
from store.enums import Channel
from store.models import Expert


def safe_windows(expert: Expert, channel: Channel) -> tuple[SafeWindow, ...]:
    """Windows set for this channel, else for every channel, else the default 9am to 8pm.

    Enough to tell a person when to call; no date is needed for that."""
    chosen = [w for w in expert.windows if w.channel is channel] or [
        w for w in expert.windows if w.channel is None
    ]
    return tuple(SafeWindow.parse(w.days, f"{w.start:%H:%M}-{w.end:%H:%M}") for w in chosen) or (
        DEFAULT_WINDOW,
    )


def contact_rules(expert: Expert, channel: Channel, on: datetime) -> ContactRules:
    """The safe windows, with Scottish bank holidays around ``on`` (the injected clock's
    now) closed unless the expert said they are fine (a day at home can mean a day with the
    person they need to be safe from)."""
    blocked = frozenset() if expert.contact_on_bank_holidays else _bank_holidays_around(on.year)
    return ContactRules(
        tz=expert.time_zone, windows=safe_windows(expert, channel), blocked_dates=blocked
    )


@lru_cache(maxsize=8)
def _bank_holidays_around(year: int) -> frozenset[date]:
    """This year's and the next two (next_allowed looks up to 400 days ahead)."""
    return frozenset().union(*(scottish_bank_holidays(y) for y in range(year - 1, year + 3)))
