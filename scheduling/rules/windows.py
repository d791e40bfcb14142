"""When may Linkline contact someone? Pure, deterministic safe-hours arithmetic.

A message outside someone's agreed safe hours can put them at risk, so every rule here fails
closed: bad settings raise `WindowError`, and "nothing allowed" is `None`, never a guess.

Semantics (local wall-clock time in `ContactRules.tz`):

* An instant is allowed when its local wall-clock reading falls inside a window instance and its
  local date is neither blocked nor before `paused_until`. A window on day D covers the wall-clock
  span [D start, D end); if end <= start it runs to `end` on D+1. The after-midnight tail belongs to
  the window that started on D, but blocked/paused dates are checked against the local date of each
  instant, so blocking D+1 also silences that tail.
* Clocks going forward (a gap): a start inside the gap opens at the first real instant after it
  (the gap's end); an end inside the gap closes at that same boundary.
* Clocks going back (a repeated hour): we honour what the person's clock shows. A window opens at
  the FIRST occurrence of its start time (fold=0), and an instant is allowed only while the clock
  reads inside the window, in either pass. So an end inside the repeated hour closes the span at
  its first occurrence and reopens for the second pass up to its second occurrence (fold=1). We
  never send while the clock shows a time outside the agreed hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store.errors import Refused

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_KEYS = {name[:3].lower(): i for i, name in enumerate(_DAY_NAMES)}
_DAY_KEYS.update({name.lower(): i for i, name in enumerate(_DAY_NAMES)})
_EVERY_DAY = frozenset(range(7))
_DAY_WORDS = {"every day": _EVERY_DAY, "everyday": _EVERY_DAY, "daily": _EVERY_DAY}
_DAY_WORDS |= {"weekdays": frozenset(range(5)), "weekends": frozenset({5, 6})}
_DAYS_HELP = "Use three-letter day names, like 'mon-fri', 'mon,wed,fri', 'weekdays' or 'every day'."
_HOURS_HELP = "Write hours as start-end in 24-hour time, like '09:00-20:00' or '22:00-02:00'."
# Zone names that resolve on this server but are not a person's IANA zone (or count leap seconds).
_NOT_IANA = ("localtime", "posixrules", "Factory")
_PROBE = timedelta(hours=1)  # zones never change offset twice within an hour
_TICK = timedelta(microseconds=1)


class WindowError(Refused):
    """Contradictory or invalid contact settings; the message says in plain English what to fix."""


@dataclass(frozen=True)
class SafeWindow:
    """One span of local clock time on some weekdays when contact is safe."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days:
            raise WindowError("a safe window needs at least one day; " + _DAYS_HELP)
        if any(type(d) is not int or not 0 <= d <= 6 for d in days):
            raise WindowError("safe window days must be numbers 0 (Monday) to 6 (Sunday)")
        for edge in (self.start, self.end):
            if not isinstance(edge, time) or edge.tzinfo is not None:
                raise WindowError("safe window times must be plain local clock times, no time zone")
        if self.start == self.end and not self.all_day:
            raise WindowError("a safe window needs some allowed hours: start and end are the same")
        object.__setattr__(self, "days", days)

    @property
    def all_day(self) -> bool:
        """Midnight to midnight ("00:00-24:00"): the whole of each of its days."""
        return self.start == self.end == time(0)

    @classmethod
    def parse(cls, days: str, hours: str) -> SafeWindow:
        """Build a window from the words a coordinator types, e.g. ("mon-fri", "9-20")."""
        start, end = _parse_hours(hours)
        return cls(days=_parse_days(days), start=start, end=end)

    def describe(self) -> str:
        """Plain English for people reviewing settings, e.g. "Monday to Friday, 9am to 8pm"."""
        if self.all_day:
            return f"{_describe_days(self.days)}, at any time"
        tail = " the next day" if self.end <= self.start and self.end != time(0) else ""
        return f"{_describe_days(self.days)}, {_clock(self.start)} to {_clock(self.end)}{tail}"


DEFAULT_WINDOW = SafeWindow(days=frozenset(range(7)), start=time(9), end=time(20))


@dataclass(frozen=True)
class ContactRules:
    """Everything that decides when one person may be contacted on one channel."""

    tz: str
    windows: tuple[SafeWindow, ...]
    blocked_dates: frozenset[date] = frozenset()
    paused_until: date | None = None

    def __post_init__(self) -> None:
        windows = tuple(self.windows)
        if not windows:
            raise WindowError("no safe hours are set: add at least one safe window")
        if not all(isinstance(w, SafeWindow) for w in windows):
            raise WindowError("every safe window must be a SafeWindow")
        blocked = frozenset(self.blocked_dates)
        # A datetime is a date subclass but would never match a date lookup: refuse, don't ignore.
        if any(not _is_plain_date(d) for d in blocked):
            raise WindowError("blocked dates must be calendar dates, like 2026-12-25")
        if self.paused_until is not None and not _is_plain_date(self.paused_until):
            raise WindowError("the pause must end on a calendar date, like 2026-07-01")
        object.__setattr__(self, "windows", windows)
        object.__setattr__(self, "blocked_dates", blocked)
        load_zone(self.tz)  # fail closed now rather than at send time

    @property
    def zone(self) -> ZoneInfo:
        """The person's time zone (ZoneInfo caches, so this is cheap)."""
        return ZoneInfo(self.tz)

    def date_open(self, day: date) -> bool:
        """Whether any contact may happen on this local date."""
        paused = self.paused_until is not None and day < self.paused_until
        return not paused and day not in self.blocked_dates


def next_allowed(
    instant: datetime, rules: ContactRules, *, horizon_days: int = 400
) -> datetime | None:
    """Earliest instant >= `instant` at which contact is allowed, as an aware UTC datetime.

    Returns None if nothing is allowed within `horizon_days` local dates (e.g. every date blocked)
    — callers treat None as 'never send automatically; hand to a person'.
    """
    if horizon_days < 0:
        raise ValueError("horizon_days must not be negative")
    return _next_allowed(_utc_naive(instant), rules, horizon_days)


@lru_cache(maxsize=4096)
def _next_allowed(now: datetime, rules: ContactRules, horizon_days: int) -> datetime | None:
    """Pure, and asked for the same message at the same moment by the router, the decision
    and the gate (and for a batch's people with the same rules): remembered."""
    for start, end in _spans(now, rules, horizon_days):
        if end > now:
            return max(start, now).replace(tzinfo=UTC)
    return None


def is_allowed(instant: datetime, rules: ContactRules) -> bool:
    """Whether contact is allowed at exactly `instant`."""
    # An allowed instant lies in a window that started on its local date or the day before, so a
    # one-day horizon gives the same answer as the default one, without scanning on when it's no.
    # Compare in UTC: Python never treats a repeated-hour local time as equal to another zone's.
    return next_allowed(instant, rules, horizon_days=1) == instant.astimezone(UTC)


def window_end(instant: datetime, rules: ContactRules) -> datetime | None:
    """If `instant` is allowed, the end (UTC) of the continuous allowed span containing it.

    Returns None when `instant` is not allowed. Used to cap how long a provider may hold a
    message so it cannot arrive after the window closes.
    Spans that run past the default horizon are cut at its end, which is still safe as a cap.
    """
    return _window_end(_utc_naive(instant), rules)


@lru_cache(maxsize=4096)
def _window_end(now: datetime, rules: ContactRules) -> datetime | None:
    """Pure, and asked for every message of a batch at the batch's moment: remembered."""
    run_end: datetime | None = None
    for start, end in _spans(now, rules, 400):
        if run_end is not None:
            if start > run_end:
                break
            run_end = max(run_end, end)
        elif start <= now < end:
            run_end = end
        elif start > now:
            return None
    return None if run_end is None else run_end.replace(tzinfo=UTC)


# --- span arithmetic (all datetimes below are naive: "wall" = local clock, "utc" = UTC) ----------


def _spans(
    now: datetime, rules: ContactRules, horizon_days: int
) -> Iterator[tuple[datetime, datetime]]:
    """Allowed UTC spans, sorted by start, from windows starting near `now`'s local date onward.

    Days are visited in order; a span from a later local date starts after midnight UTC of the
    previous one (offsets are under 24h), so spans older than that are safe to release in order.
    """
    zone = rules.zone
    first = _wall(now, zone).date() - timedelta(days=2)  # day before, plus one for repeated hours
    pending: list[tuple[datetime, datetime]] = []
    for offset in range(horizon_days + 3):
        day = first + timedelta(days=offset)
        for wall_start, wall_end in _wall_intervals(day, rules):
            pending.extend(_utc_spans(wall_start, wall_end, zone))
        pending.sort()
        cut = datetime.combine(day, time())
        while pending and pending[0][0] < cut:
            yield pending.pop(0)
    yield from pending


@lru_cache(maxsize=4096)
def _wall_intervals(day: date, rules: ContactRules) -> tuple[tuple[datetime, datetime], ...]:
    """Wall-clock spans of the windows that start on `day`, with closed local dates cut out.

    Pure, and asked again for every message a batch sends to people with the same rules on
    the same days: remembered."""
    return tuple(_wall_pieces(day, rules))


def _wall_pieces(day: date, rules: ContactRules) -> Iterator[tuple[datetime, datetime]]:
    for window in rules.windows:
        if day.weekday() not in window.days:
            continue
        start = datetime.combine(day, window.start)
        end_day = day + timedelta(days=1) if window.end <= window.start else day
        end = datetime.combine(end_day, window.end)
        for piece_day in (day, end_day) if end_day != day else (day,):
            midnight = datetime.combine(piece_day, time())
            lo, hi = max(start, midnight), min(end, midnight + timedelta(days=1))
            if lo < hi and rules.date_open(piece_day):
                yield lo, hi


@lru_cache(maxsize=4096)
def _utc_spans(
    wall_start: datetime, wall_end: datetime, zone: ZoneInfo
) -> tuple[tuple[datetime, datetime], ...]:
    """All UTC spans whose local clock reading lies in [wall_start, wall_end).

    On each stretch of constant UTC offset the clock runs straight, so the preimage there is one
    interval; across a repeated hour there can be two, across a gap the gap simply drops out.
    Pure and costly (the offset changes are found by bisection): remembered.
    """
    lo = min(_to_utc(wall_start, zone, 0), _to_utc(wall_start, zone, 1))
    hi = max(_to_utc(wall_end, zone, 0), _to_utc(wall_end, zone, 1))
    spans: list[tuple[datetime, datetime]] = []
    for piece_start, piece_end, offset in _offset_pieces(lo, hi, zone):
        start, end = max(piece_start, wall_start - offset), min(piece_end, wall_end - offset)
        if start < end:
            spans.append((start, end))
    return tuple(spans)


def _offset_pieces(
    lo: datetime, hi: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime, timedelta]]:
    """Split UTC [lo, hi) into stretches of constant UTC offset, finding changes by bisection."""
    pieces = []
    piece_start, offset, probe = lo, _offset(lo, zone), lo
    while probe < hi:
        ahead = min(probe + _PROBE, hi)
        if _offset(ahead, zone) == offset:
            probe = ahead
            continue
        good, bad = probe, ahead
        while bad - good > _TICK:
            mid = good + (bad - good) / 2
            good, bad = (mid, bad) if _offset(mid, zone) == offset else (good, mid)
        pieces.append((piece_start, bad, offset))
        piece_start, offset, probe = bad, _offset(bad, zone), bad
    pieces.append((piece_start, hi, offset))
    return pieces


def _offset(utc: datetime, zone: ZoneInfo) -> timedelta:
    return utc.replace(tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)


def _to_utc(wall: datetime, zone: ZoneInfo, fold: int) -> datetime:
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC).replace(tzinfo=None)


def _wall(utc: datetime, zone: ZoneInfo) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _utc_naive(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware; a bare clock time could be anywhere")
    return instant.astimezone(UTC).replace(tzinfo=None)


def _is_plain_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def load_zone(name: object) -> ZoneInfo:
    """The zone for `name`, or WindowError: never fall back to UTC or the server's own zone."""
    fix = "set the person's time zone to an IANA name like 'Europe/London'"
    if not isinstance(name, str) or name in _NOT_IANA or name.startswith(("posix/", "right/")):
        raise WindowError(f"{name!r} is not a time zone we can use; {fix}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise WindowError(f"unknown time zone {name!r}; {fix}") from None


# --- parsing and describing -------------------------------------------------------------------


def _parse_days(text: str) -> frozenset[int]:
    cleaned = " ".join(str(text).lower().split())
    if cleaned in _DAY_WORDS:
        return _DAY_WORDS[cleaned]
    if not cleaned:
        raise WindowError(f"no days given for the safe window. {_DAYS_HELP}")
    days: set[int] = set()
    for part in cleaned.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        for name in (first, last) if last else (first,):
            if name not in _DAY_KEYS:
                raise WindowError(f"I don't recognise the day {name!r} in {text!r}. {_DAYS_HELP}")
        begin, finish = _DAY_KEYS[first], _DAY_KEYS[last or first]
        days.update((begin + i) % 7 for i in range((finish - begin) % 7 + 1))
    return frozenset(days)


def _parse_hours(text: str) -> tuple[time, time]:
    parts = str(text).replace("–", "-").replace(" ", "").split("-")
    if len(parts) != 2:
        raise WindowError(f"I can't read the hours {text!r}. {_HOURS_HELP}")
    start, end = (_parse_clock(p, text) for p in parts)
    if start == time(0) and parts[0].startswith("24"):
        raise WindowError(f"the hours {text!r} can't start at 24:00. {_HOURS_HELP}")
    return start, end


def _parse_clock(part: str, text: str) -> time:
    hour, sep, minute = part.partition(":")
    ok = hour.isdigit() and len(hour) <= 2 and (not sep or (minute.isdigit() and len(minute) == 2))
    h, m = (int(hour), int(minute or 0)) if ok else (-1, -1)
    if h == 24 and m == 0:
        return time(0)  # "24:00" as an end means midnight
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise WindowError(f"I can't read the hours {text!r}. {_HOURS_HELP}")
    return time(h, m)


def _describe_days(days: frozenset[int]) -> str:
    if len(days) == 7:
        return "every day"
    first = next(d for d in range(7) if d in days and (d - 1) % 7 not in days)
    names: list[str] = []
    run: list[int] = []
    for day in (*(first + i for i in range(7)), None):
        if day is not None and day % 7 in days:
            run.append(day % 7)
            continue
        if len(run) >= 3:
            names.append(f"{_DAY_NAMES[run[0]]} to {_DAY_NAMES[run[-1]]}")
        else:
            names.extend(_DAY_NAMES[d] for d in run)
        run = []
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _clock(moment: time) -> str:
    if moment == time(0):
        return "midnight"
    if moment == time(12):
        return "midday"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute or moment.second else ""
    seconds = f":{moment.second:02d}" if moment.second else ""
    return f"{hour}{minutes}{seconds}{'am' if moment.hour < 12 else 'pm'}"
