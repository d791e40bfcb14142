"""Scottish bank holidays and working days, for letters' lead time and quiet days.

The rules are the published pattern (fixed days with weekend substitutes, Easter, first and
last Mondays). One-off changes are listed by year; review them each year.

Letter timing follows Royal Mail's second class since July 2025: delivered Monday to
Friday only (no Saturdays), aiming for three working days after posting. A letter is
posted the working day after it is made, so it is in hand on the third working day after
that.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

# One-off changes by royal proclamation: (moved from, moved to) or extra days.
_MOVED = {date(2020, 5, 4): date(2020, 5, 8), date(2022, 5, 30): date(2022, 6, 2)}
_EXTRA = {date(2022, 6, 3), date(2022, 9, 19), date(2023, 5, 8)}

_DELIVERED_BY = time(14, 0)  # a letter is in hand by early afternoon on its arrival day
DELIVERY_DAYS = 3  # second class: three working days after the day of posting


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_monday(year: int, month: int, first: bool) -> date:
    if first:
        day = date(year, month, 1)
        return day + timedelta(days=(7 - day.weekday()) % 7)
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=64)
def scottish_bank_holidays(year: int) -> frozenset[date]:
    fixed = [
        date(year, 1, 1),
        date(year, 1, 2),
        date(year, 11, 30),
        date(year, 12, 25),
        date(year, 12, 26),
    ]
    days: set[date] = set()
    for holiday in fixed:  # in order, so a substitute never lands on a later holiday
        substitute = holiday
        while substitute.weekday() >= 5 or substitute in days:
            substitute += timedelta(days=1)
        days.add(substitute)
    days |= {
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_monday(year, 5, first=True),  # early May
        _nth_monday(year, 5, first=False),  # spring
        _nth_monday(year, 8, first=True),  # summer (Scotland: first Monday of August)
    }
    days = {_MOVED.get(d, d) for d in days} | {d for d in _EXTRA if d.year == year}
    return frozenset(days)


def is_bank_holiday(day: date) -> bool:
    return day in scottish_bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, not a bank holiday: the days an office posts letters."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def is_delivery_day(day: date) -> bool:
    """Second-class post is delivered Monday to Friday (no Saturdays since July 2025), and
    not on bank holidays."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def letter_arrival(handed_over: datetime, tz: str) -> datetime:
    """Posted the next working day, delivered on the third delivery day after that; days
    are counted on the postal service's calendar, ``tz``."""
    zone = ZoneInfo(tz)
    day = handed_over.astimezone(zone).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    for _ in range(DELIVERY_DAYS):
        day += timedelta(days=1)
        while not is_delivery_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, _DELIVERED_BY, tzinfo=zone)
