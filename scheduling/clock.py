"""Where "now" comes from. Everything asks a clock, so the demo can run weeks in seconds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock moved by hand (demo and tests); it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, step: timedelta) -> datetime:
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += step
        return self._now

    def set(self, when: datetime) -> None:
        self.advance(when.astimezone(UTC) - self._now)


def local_today(now: datetime, tz: str) -> date:
    """The date on someone's own calendar (a person's zone, or the organisation's): at
    00:30 BST it is already tomorrow there. No default: the caller says whose calendar."""
    return now.astimezone(ZoneInfo(tz)).date()
