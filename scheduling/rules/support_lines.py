"""Crisis and support lines as data (R-2.5): numbers, opening hours, and when each was checked.

Staff keep the lines in templates/support_lines.toml, so a changed number needs no code change.
Loading is strict: any doubt raises SupportLinesError naming the file, the line and what to fix,
because a wrong crisis number is worse than a refusal to start.

Opening hours are the lines' own clock, in the zone the file names at the top (`time_zone`),
so "6pm" stays 6pm across the clock changes. They are read from the wall clock: in the
repeated autumn hour, 01:30 counts as 01:30 both times, and the missing spring hour simply
never happens.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduling.rules.template_files import TEMPLATES
from store.errors import Refused

DEFAULT_SUPPORT_LINES = TEMPLATES / "support_lines.toml"
STALE_AFTER_DAYS = 365  # flag entries older than 12 months

_DAY = 24 * 60  # minutes
_WEEK = 7 * _DAY
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {name[:3]: i for i, name in enumerate(_DAY_NAMES)} | {
    name: i for i, name in enumerate(_DAY_NAMES)
}
_DAYS |= {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_DAY_GROUPS = {"every day": range(7), "everyday": range(7), "daily": range(7)}
_DAY_GROUPS |= {"weekdays": range(5), "weekends": range(5, 7)}
_SPAN_HELP = (
    'Write each span like "mon-thu 18:00-02:00" (each of those days, to 2am the next day),'
    ' "fri 18:00-mon 06:00" (one stretch across the weekend) or "every day 18:00-24:00"'
)
_ALWAYS_HELP = 'For a line that never closes, write hours = "always".'
_DASHES = re.compile(r"\s*[-–—]\s*")
_THROUGH = re.compile(r"([a-z]+) ([0-9]{1,2}:[0-9]{2})-([a-z]+) ([0-9]{1,2}:[0-9]{2})")
_DAILY = re.compile(r"([a-z][a-z ,-]*?) ([0-9]{1,2}:[0-9]{2})-([0-9]{1,2}:[0-9]{2})")
_NUMBER = re.compile(r"[0-9][0-9 ]*[0-9]")
_REQUIRED = ("name", "neutral", "number", "hours", "hours_text", "last_checked", "source")
_OPTIONAL = ("note", "for_immediate_danger")
_NEUTRAL_HELP = (
    "; neutral is the label shown where others may read the message, without the service's"
    ' name, like neutral = "Someone to talk to, free, 24 hours"'
)
_TOP_LEVEL = ("time_zone", "line")
_ZONE_HELP = (
    'write it at the top of the file, before the first [[line]], like time_zone = "Europe/London"'
)


class SupportLinesError(Refused):
    """The support lines file can't be trusted; the message names the file, line and fix."""


class _Problem(Exception):
    """What is wrong with one value. The loader adds which file and line."""


@dataclass(frozen=True)
class WeeklySpan:
    """A stretch of local clock time each week: `minutes` long, from `start` minutes after
    Monday 00:00. It may run past Sunday midnight into Monday."""

    start: int
    minutes: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < _WEEK and 0 < self.minutes <= _WEEK):
            raise ValueError(
                f"a weekly span must start within the week and last up to a week: {self}"
            )

    def contains(self, second_of_week: int) -> bool:
        """Whether a moment, in seconds after Monday 00:00 local time, falls inside."""
        return (second_of_week - self.start * 60) % (_WEEK * 60) < self.minutes * 60


@dataclass(frozen=True)
class SupportLine:
    """One service we may offer someone in distress, with how we know its details are right."""

    name: str
    # What the line is called where others may read it: no service name, e.g. "Someone
    # to talk to, free, 24 hours". Names only go on channels safe for details.
    neutral: str
    number: str
    always_open: bool
    spans: tuple[WeeklySpan, ...]
    hours_text: str
    note: str
    last_checked: date
    source: str
    for_immediate_danger: bool
    zone: ZoneInfo  # the clock the hours are written in (the file's time_zone)

    def __post_init__(self) -> None:
        if self.always_open == bool(self.spans):
            raise SupportLinesError(f"{self.name}: give either always-open or opening spans")

    def is_open(self, at: datetime) -> bool:
        """Whether the line answers at `at` (timezone-aware), by the line's own clock."""
        _require_aware(at)
        if self.always_open:
            return True
        try:
            local = at.astimezone(self.zone)
        except OverflowError:
            return False  # beyond the calendar's ends there is no local time to check
        second = local.weekday() * 86400 + local.hour * 3600 + local.minute * 60 + local.second
        return any(span.contains(second) for span in self.spans)

    def is_stale(self, today: date, max_age_days: int = STALE_AFTER_DAYS) -> bool:
        """Due a re-check: checked more than `max_age_days` ago, or dated over a day ahead (a
        typo like that can't vouch for a number)."""
        age = today - self.last_checked
        return age > timedelta(days=max_age_days) or age < timedelta(days=-1)


def open_now(lines: Sequence[SupportLine], at: datetime) -> list[SupportLine]:
    """Lines to offer now: always-open first (file order), then others open at this moment;
    closed ones left out."""
    _require_aware(at)
    always = [line for line in lines if line.always_open]
    return always + [line for line in lines if not line.always_open and line.is_open(at)]


def load_support_lines(path: Path | None = None) -> list[SupportLine]:
    """Read and check every [[line]] in the file (default templates/support_lines.toml)."""
    source = path or DEFAULT_SUPPORT_LINES
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SupportLinesError(f"{source}: can't read the file ({exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SupportLinesError(f"{source}: this is not valid TOML ({exc})") from exc
    unknown = sorted(set(data) - set(_TOP_LEVEL))
    if unknown:
        raise SupportLinesError(
            f"{source}: unknown setting {', '.join(unknown)} at the top of the file;"
            " put each service in its own [[line]] table"
        )
    zone = _zone(data.get("time_zone"), source)
    entries = data.get("line")
    if not entries:
        raise SupportLinesError(
            f"{source}: no support lines found; add at least one [[line]] table with "
            + ", ".join(_REQUIRED)
        )
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SupportLinesError(f"{source}: write each service as a [[line]] table")
    lines: list[SupportLine] = []
    names: dict[str, int] = {}
    for index, entry in enumerate(entries, 1):
        name = entry.get("name")
        where = f"{source}: [[line]] number {index}" + (
            f" ({name!r})" if isinstance(name, str) and name.strip() else ""
        )
        try:
            line = _parse_line(entry, zone)
        except _Problem as problem:
            raise SupportLinesError(f"{where}: {problem}") from None
        first = names.setdefault(line.name.casefold(), index)
        if first != index:
            raise SupportLinesError(
                f"{where}: the name is already used by [[line]] number {first};"
                " give each line its own name"
            )
        lines.append(line)
    return lines


def _zone(value: object, source: Path) -> ZoneInfo:
    """The zone the opening hours are written in: the file says it, so the code never guesses."""
    if value is None:
        raise SupportLinesError(
            f"{source}: missing time_zone, the zone the opening hours are written in; {_ZONE_HELP}"
        )
    if not isinstance(value, str) or not value.strip():
        raise SupportLinesError(f"{source}: time_zone must be a zone name in quotes; {_ZONE_HELP}")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise SupportLinesError(
            f"{source}: time_zone {value!r} is not a time zone I know;"
            ' use a name like "Europe/London"'
        ) from None


# --- checking one [[line]] -----------------------------------------------------------------------


def _parse_line(entry: dict[str, Any], zone: ZoneInfo) -> SupportLine:
    unknown = sorted(set(entry) - {*_REQUIRED, *_OPTIONAL})
    if unknown:
        fields = ", ".join((*_REQUIRED, *_OPTIONAL))
        raise _Problem(f"unknown field {', '.join(unknown)}; the fields are {fields}")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise _Problem(f"missing {', '.join(missing)}" + _NEUTRAL_HELP * ("neutral" in missing))
    name, neutral = _text(entry, "name"), _text(entry, "neutral")
    if name.casefold() in neutral.casefold():
        raise _Problem(f"neutral {neutral!r} names the service; {_NEUTRAL_HELP.strip('; ')}")
    number = _text(entry, "number")
    if not (_NUMBER.fullmatch(number) and sum(c.isdigit() for c in number) >= 3):
        raise _Problem(f'number {number!r} must be digits and spaces only, like "116 123"')
    always_open, spans = _hours(entry["hours"])
    last_checked = entry["last_checked"]
    if type(last_checked) is not date:
        raise _Problem(
            "last_checked must be a plain date, without quotes or a time,"
            " like last_checked = 2026-11-23"
        )
    source = _text(entry, "source")
    if not source.startswith(("https://", "http://")):
        raise _Problem(f"source {source!r} must be the web address the details were checked on")
    danger = entry.get("for_immediate_danger", False)
    if not isinstance(danger, bool):
        raise _Problem("for_immediate_danger must be true or false, without quotes")
    return SupportLine(
        name=name,
        neutral=neutral,
        number=number,
        always_open=always_open,
        spans=spans,
        hours_text=_text(entry, "hours_text"),
        note=_text(entry, "note", required=False),
        last_checked=last_checked,
        source=source,
        for_immediate_danger=danger,
        zone=zone,
    )


def _text(entry: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise _Problem(f"{key} must be text in quotes")
    if required and not value.strip():
        raise _Problem(f"{key} is empty")
    return value.strip()


def _hours(value: object) -> tuple[bool, tuple[WeeklySpan, ...]]:
    if isinstance(value, str) and value.strip().lower() == "always":
        return True, ()
    if isinstance(value, str):
        raise _Problem(f'hours must be "always" or a list of spans, not {value!r}. {_SPAN_HELP}')
    if not isinstance(value, list) or not value:
        raise _Problem(f'hours must be "always" or a list of spans. {_SPAN_HELP}')
    spans: list[WeeklySpan] = []
    for item in value:
        if not isinstance(item, str):
            raise _Problem(f"each span in hours must be text in quotes. {_SPAN_HELP}")
        if item.strip().lower() == "always":
            raise _Problem('for a line that never closes write hours = "always", not in a list')
        spans.extend(_spans(item))
    return False, tuple(spans)


def _spans(text: str) -> list[WeeklySpan]:
    """One written span: several days at the same hours, or one stretch from day to day."""
    cleaned = _DASHES.sub("-", " ".join(text.lower().split()))
    if through := _THROUGH.fullmatch(cleaned):
        first_day, start_at, last_day, end_at = through.groups()
        start = _day(first_day, text) * _DAY + _clock(start_at, text)
        end = _day(last_day, text) * _DAY + _clock(end_at, text, end=True)
        if (end - start) % _WEEK == 0:
            raise _Problem(f"the span {text!r} starts and ends at the same moment. {_ALWAYS_HELP}")
        return [WeeklySpan(start % _WEEK, (end - start) % _WEEK)]
    if daily := _DAILY.fullmatch(cleaned):
        days, start_at, end_at = daily.groups()
        start, end = _clock(start_at, text), _clock(end_at, text, end=True)
        if start == end:
            raise _Problem(f"the span {text!r} starts and ends at the same time. {_ALWAYS_HELP}")
        minutes = end - start if end > start else end + _DAY - start  # past midnight: next day
        return [WeeklySpan(day * _DAY + start, minutes) for day in _days(days, text)]
    raise _Problem(f"I can't read the span {text!r}. {_SPAN_HELP}")


def _days(text: str, span: str) -> list[int]:
    if text in _DAY_GROUPS:
        return list(_DAY_GROUPS[text])
    days: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = part.partition("-")
        begin, finish = _day(first, span), _day(last if dash else first, span)
        days += [(begin + i) % 7 for i in range((finish - begin) % 7 + 1)]
    return sorted(set(days))


def _day(name: str, span: str) -> int:
    if name not in _DAYS:
        raise _Problem(
            f"I don't recognise the day {name!r} in {span!r}; use day names like mon, tue, wed,"
            ' or "every day"'
        )
    return _DAYS[name]


def _clock(text: str, span: str, *, end: bool = False) -> int:
    """Minutes after midnight. '24:00' is allowed only at the end of a span."""
    hour, minute = (int(part) for part in text.split(":"))
    if end and (hour, minute) == (24, 0):
        return _DAY
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _Problem(
            f"I can't read the time {text!r} in {span!r}; use 24-hour times like 18:00"
            " (24:00 only for midnight at the end)"
        )
    return hour * 60 + minute


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the time must be timezone-aware; a bare clock time could be anywhere")
