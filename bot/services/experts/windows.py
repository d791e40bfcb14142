"""Safe-contact windows: the days and hours an expert said contact is safe.

Checked by the same parser the dispatcher uses, so a saved window never fails at send time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts.details import WindowInput
from bot.services.experts.introductions import queue_summary
from bot.services.experts.profile import ExpertError, who
from scheduling.rules.windows import WindowError
from store import audit
from store.models import ContactWindow, Expert


async def add_window(
    session: AsyncSession, expert: Expert, window: WindowInput, *, now: datetime, actor: str
) -> ContactWindow:
    """Add one safe-contact window (checked by the same parser the dispatcher uses)."""
    try:
        parsed = window.parsed()
    except WindowError as exc:
        raise ExpertError(str(exc), field="window_from") from None
    await session.refresh(expert, ["windows"])
    added = ContactWindow(
        channel=window.channel, days=window.days, start=parsed.start, end=parsed.end
    )
    expert.windows.append(added)
    expert.updated_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.window_added",
        entity="expert",
        entity_id=expert.id,
        at=now,
        window=added.id,
    )
    await queue_summary(session, expert, now)
    return added


async def remove_window(
    session: AsyncSession, expert: Expert, window_id: int, *, now: datetime, actor: str
) -> None:
    """Remove one of their windows; with none left, the default safe hours apply."""
    await session.refresh(expert, ["windows"])
    window = next((w for w in expert.windows if w.id == window_id), None)
    if window is None:
        raise ExpertError(
            f"expert {who(expert)} has no safe window {window_id}",
            plain="That safe time has already been removed",
        )
    expert.windows.remove(window)
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.window_removed",
        entity="expert",
        entity_id=expert.id,
        at=now,
        window=window_id,
    )
    await queue_summary(session, expert, now)
