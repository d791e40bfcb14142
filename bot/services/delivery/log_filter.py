"""Reading the delivery log's filter form: every bad value is a sentence by its field,
never a crash. Dates are calendar days in the organisation's zone, both ends included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.delivery.log import LogFilter, midnight
from scheduling.text.words import CHANNELS_FOR_STAFF, MESSAGE_STATUSES_BRIEF
from store.enums import Channel, MessageStatus
from store.errors import Refused
from store.models import Expert, Staff


class FilterProblem(Refused):
    """Filter values that cannot be used; ``errors`` maps each field id to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


@dataclass(frozen=True)
class FilterChoices:
    """What the filter form offers: statuses, channels and the staff who have experts."""

    statuses: list[tuple[str, str]]
    channels: list[tuple[str, str]]
    staff: list[tuple[str, str]]


async def filter_choices(session: AsyncSession) -> FilterChoices:
    staff = await session.execute(
        select(Staff.id, Staff.name)
        .where(Staff.id.in_(select(Expert.link_worker_id)))
        .order_by(Staff.name, Staff.id)
    )
    return FilterChoices(
        statuses=[(s.value, MESSAGE_STATUSES_BRIEF[s]) for s in MessageStatus],
        channels=[(c.value, CHANNELS_FOR_STAFF[c]) for c in Channel],
        staff=[(str(row.id), row.name) for row in staff],
    )


def _typed_date(raw: Mapping[str, str], prefix: str, name: str) -> tuple[date | None, str | None]:
    """A date typed as day, month and year (GOV.UK's date input), or given in a link as
    2026-03-27; or the error to show."""
    parts = [raw.get(f"{prefix}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts) and (iso := raw.get(prefix, "").strip()):
        parts = list(reversed(iso.split("-"))) if iso.count("-") == 2 else ["x", "x", "x"]
    if not any(parts):
        return None, None
    if not all(parts):
        return None, f"{name} must include a day, month and year"
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None, f"{name} must be a real date, for example 27 3 2026"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), None
    except ValueError:
        return None, f"{name} must be a real date, for example 27 3 2026"


async def read_filter(session: AsyncSession, raw: Mapping[str, str], *, tz: str) -> LogFilter:
    """The log's filter form, checked: a bad value is an error by its field, never a crash.

    Dates are calendar days in ``tz``, both ends included, matched on when a message was due.
    """
    errors: dict[str, str] = {}
    status = channel = None
    text = raw.get("status", "").strip()
    if text:
        try:
            status = MessageStatus(text)
        except ValueError:
            errors["status"] = "Choose a status from the list"
    text = raw.get("channel", "").strip()
    if text:
        try:
            channel = Channel(text)
        except ValueError:
            errors["channel"] = "Choose a channel from the list"
    since, problem = _typed_date(raw, "from", "Date from")
    if problem:
        errors["from"] = problem
    until, problem = _typed_date(raw, "to", "Date to")
    if problem:
        errors["to"] = problem
    if since and until and since > until:
        errors["to"] = "Date to must be the same as or after date from"
    worker_id = None
    text = raw.get("staff", "").strip()
    if text:
        known = text.isdigit() and await session.scalar(
            select(Expert.id).where(Expert.link_worker_id == int(text)).limit(1)
        )
        if known:
            worker_id = int(text)
        else:
            errors["staff"] = "Choose a link worker from the list"
    expert_id = None
    text = raw.get("expert", "").strip()
    if text:
        expert_id = await _by_reference(session, text)
        if expert_id is None:
            errors["expert"] = "No expert has this reference: check it and try again"
    text = raw.get("person", "").strip()
    if text and expert_id is None:
        # An expert found by the search box (by name, number or address): their id only,
        # so nothing personal is in the address bar.
        if text.isdigit():
            expert_id = await session.scalar(select(Expert.id).where(Expert.id == int(text)))
        if expert_id is None:
            errors["expert"] = "That expert is no longer on record: search again"
    if errors:
        raise FilterProblem(errors)
    return LogFilter(
        expert_id=expert_id,
        channel=channel,
        status=status,
        since=midnight(since, tz) if since else None,
        until=midnight(until + timedelta(days=1), tz) if until else None,
        link_worker_id=worker_id,
    )


async def _by_reference(session: AsyncSession, text: str) -> int | None:
    """A reference however it is typed ("ex-01" finds EX-01); an exact match wins."""
    rows = (
        await session.execute(
            select(Expert.id, Expert.ref).where(func.lower(Expert.ref) == text.casefold())
        )
    ).all()
    exact = [i for i, ref in rows if ref == text]
    matches: list[int] = exact or [i for i, _ in rows]
    return matches[0] if matches else None


def read_page_number(text: str) -> int:
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise FilterProblem({"page": "The page number must be a whole number, 1 or more"})
    return int(text)
