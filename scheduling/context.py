"""What a template and the window rules need to know about one message's person."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from channels.working_days import scottish_bank_holidays
from scheduling.questions import asks_for_answer
from scheduling.tasks import local_today, responsible_staff
from scheduling.windows import DEFAULT_WINDOW, ContactRules, SafeWindow
from scheduling.wording import clock_time, spoken_datetime, spoken_day
from store.enums import Channel
from store.models import Expert, Message


def contact_rules(expert: Expert, channel: Channel, on: datetime | None = None) -> ContactRules:
    """Windows set for this channel, else for every channel, else the default 9am to 8pm;
    Scottish bank holidays closed unless the expert said they are fine (a day at home can
    mean a day with the person they need to be safe from)."""
    chosen = [w for w in expert.windows if w.channel is channel] or [
        w for w in expert.windows if w.channel is None
    ]
    windows = tuple(SafeWindow.parse(w.days, f"{w.start:%H:%M}-{w.end:%H:%M}") for w in chosen) or (
        DEFAULT_WINDOW,
    )
    blocked = (
        frozenset()
        if expert.contact_on_bank_holidays
        else _bank_holidays_around((on or datetime.now(UTC)).year)
    )
    return ContactRules(tz=expert.time_zone, windows=windows, blocked_dates=blocked)


@lru_cache(maxsize=8)
def _bank_holidays_around(year: int) -> frozenset[date]:
    """This year's and the next two (next_allowed looks up to 400 days ahead)."""
    return frozenset().union(*(scottish_bank_holidays(y) for y in range(year - 1, year + 3)))


def first_name(full: str) -> str:
    return full.split()[0] if full.strip() else full


def signature(expert: Expert, on: datetime) -> str:
    """Messages come from the person the expert knows, or say plainly who is covering."""
    worker = expert.link_worker
    staff = responsible_staff(worker, local_today(on, expert.time_zone))
    if staff.id != worker.id:
        return f"{first_name(staff.name)}, covering for {first_name(worker.name)}"
    return first_name(worker.name)


def template_context(message: Message, details_safe: bool, now: datetime) -> dict[str, Any]:
    expert = message.expert
    context: dict[str, Any] = {
        "name": expert.preferred_name,
        "worker": signature(expert, now),
        "details": (not expert.discreet) or details_safe,
        "variant": message.variant or 0,
        "note": message.personal_note or "",
        "ask_answer": asks_for_answer(message),
    }
    engagement = message.engagement
    if engagement is not None:
        tz = expert.time_zone
        local_end = engagement.ends_at.astimezone(ZoneInfo(tz))
        context.update(
            title=engagement.title,
            when=spoken_datetime(engagement.starts_at, tz),
            day=spoken_day(engagement.starts_at, tz),
            ends=clock_time(time(local_end.hour, local_end.minute)),
            day_of_meeting=f"{engagement.starts_at.astimezone(ZoneInfo(tz)):%A}",
            purpose=engagement.purpose or "",
            objectives=engagement.objectives or "",
            expected_outcomes=engagement.expected_outcomes or "",
            venue_name=engagement.venue_name or "",
            venue_address=engagement.venue_address or "",
            venue_accessibility=engagement.venue_accessibility or "",
            online_link=engagement.online_link or "",
            meeting_point=engagement.meeting_point or "",
            practitioners=engagement.practitioners or "",
            transport_and_expenses=engagement.transport_and_expenses or "",
            how_to_claim=engagement.how_to_claim or "",
            paperwork=engagement.paperwork or "",
            outcomes=engagement.outcomes or "",
        )
    return context
