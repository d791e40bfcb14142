"""Times written the way people say them: "Tuesday 3 March at 2pm"."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo


def clock_time(value: time) -> str:
    if value.hour == 12 and value.minute == 0:
        return "midday"
    if value.hour == 0 and value.minute == 0:
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def spoken_day(moment: datetime, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local:%A} {local.day} {local:%B}"


def spoken_datetime(moment: datetime, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return f"{spoken_day(moment, tz)} at {clock_time(local.time())}"
