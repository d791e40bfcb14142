"""Which hours and days are safe for one person on one channel."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

from channels.working_days import scottish_bank_holidays
from scheduling.rules.windows import DEFAULT_WINDOW, ContactRules, SafeWindow
from store.enums import Channel
from store.models import Expert

# What a person's stored windows say, as plain values: (channel, days, start, end).
_Stored = tuple[tuple[Channel | None, str, time, time], ...]


def safe_windows(expert: Expert, channel: Channel) -> tuple[SafeWindow, ...]:
    """Windows set for this channel, else for every channel, else the default 9am to 8pm.

    Enough to tell a person when to call; no date is needed for that."""
    return _windows(_stored(expert), channel)


def contact_rules(expert: Expert, channel: Channel, on: datetime) -> ContactRules:
    """The safe windows, with Scottish bank holidays around ``on`` (the injected clock's
    now) closed unless the expert said they are fine (a day at home can mean a day with the
    person they need to be safe from).

    The same settings give the same rules object, made once: a message meets these rules
    in the decision, the gate and its validity period, and a batch meets the same few
    settings again and again. Remembered by value, so a changed setting is a new key."""
    return _rules(
        expert.time_zone, _stored(expert), channel, bool(expert.contact_on_bank_holidays), on.year
    )


def _stored(expert: Expert) -> _Stored:
    return tuple((w.channel, w.days, w.start, w.end) for w in expert.windows)


@lru_cache(maxsize=1024)
def _rules(
    tz: str, stored: _Stored, channel: Channel, on_bank_holidays: bool, year: int
) -> ContactRules:
    blocked = frozenset() if on_bank_holidays else _bank_holidays_around(year)
    return ContactRules(tz=tz, windows=_windows(stored, channel), blocked_dates=blocked)


@lru_cache(maxsize=1024)
def _windows(stored: _Stored, channel: Channel) -> tuple[SafeWindow, ...]:
    chosen = [w for w in stored if w[0] is channel] or [w for w in stored if w[0] is None]
    return tuple(
        SafeWindow.parse(days, f"{start:%H:%M}-{end:%H:%M}") for _, days, start, end in chosen
    ) or (DEFAULT_WINDOW,)


@lru_cache(maxsize=8)
def _bank_holidays_around(year: int) -> frozenset[date]:
    """This year's and the next two (next_allowed looks up to 400 days ahead)."""
    return frozenset().union(*(scottish_bank_holidays(y) for y in range(year - 1, year + 3)))
