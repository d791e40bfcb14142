"""Pastoral contact: keeping in touch at the level the expert chose. Pure functions only.

Practice says people should know they are valued and missed, and choose how often they
hear from us; over-contact is a harm of its own. So a pastoral message is due only when
there has been no other contact for a whole interval, never sooner than the organisation's
minimum gap after the previous one, and wording varies so it never reads as a bulk message.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store.enums import PastoralLevel
from store.errors import Refused

INTERVAL_DAYS = {
    PastoralLevel.WEEKLY: 7,
    PastoralLevel.FORTNIGHTLY: 14,
    PastoralLevel.MONTHLY: 28,
}
VARIANTS = 3  # each pastoral template has this many wordings
SEND_AT = time(11)  # late morning, their time: after the school run, well inside safe hours
STILL_USEFUL = timedelta(days=3)  # a hello held longer than this is dropped, not sent late


class PastoralError(Refused):
    """A contact level that breaks the organisation's rules, in words a person can fix."""


def check_level(level: PastoralLevel, min_days: int) -> None:
    """Refuse a level more frequent than the minimum gap between pastoral messages."""
    days = INTERVAL_DAYS.get(level)
    if days is not None and days < min_days:
        allowed = [lv.value for lv, d in INTERVAL_DAYS.items() if d >= min_days]
        raise PastoralError(
            f"{level.value} contact is more often than this organisation allows "
            f"(at most one keeping-in-touch message every {min_days} days); "
            f"choose {', '.join([*allowed, 'off'])}"
        )


def pastoral_due(
    level: PastoralLevel,
    *,
    tz: str,
    since: datetime,
    last_contact: datetime | None,
    last_pastoral: datetime | None,
    min_days: int,
) -> datetime | None:
    """When the next pastoral message is due, or None when the level is off.

    ``since`` is when the expert joined, so a newcomer is not greeted by a machine on
    day one; ``last_contact`` is the latest contact of any kind, either way (a message
    sent, a reply, a call a person made); ``last_pastoral`` the previous pastoral one.
    """
    days = INTERVAL_DAYS.get(level)
    if days is None:
        return None
    interval = timedelta(days=days)
    anchor = max(moment for moment in (since, last_contact) if moment is not None)
    earliest = anchor + interval
    if last_pastoral is not None:
        earliest = max(earliest, last_pastoral + max(interval, timedelta(days=min_days)))
    return at_send_time(earliest, tz)


def at_send_time(earliest: datetime, tz: str) -> datetime:
    """The first SEND_AT on or after ``earliest``, on the expert's own clock."""
    zone = ZoneInfo(tz)
    local = earliest.astimezone(zone)
    candidate = datetime.combine(local.date(), SEND_AT, tzinfo=zone)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), SEND_AT, tzinfo=zone)
    return candidate.astimezone(UTC)


def choose_variant(previous: int | None) -> int:
    """A different wording from last time, going round them all."""
    return 0 if previous is None else (previous + 1) % VARIANTS
