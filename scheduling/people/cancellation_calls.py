"""The 24-hour rule, followed through: who still needs a phone call about a cancellation,
recording that someone was told in person or by phone, and standing the venue visit down
once nobody can turn up not knowing.

The tasks themselves are opened in ``scheduling.people.handoff``; these keys are the ones it uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import TaskKind, TaskStatus
from store.models import Engagement, Invitation, Task

VENUE_STOOD_DOWN = "everyone was told; nobody needs meeting at the venue"
_OUTCOME_LIMIT = 300


def cancel_call_key(engagement_id: int, expert_id: int) -> str:
    return f"eng{engagement_id}:exp{expert_id}:cancel-call"


def venue_key(engagement_id: int) -> str:
    return f"eng{engagement_id}:venue"


@dataclass(frozen=True)
class ToldOutcome:
    call_task: Task | None  # their phone task, closed now (None if there was none open)
    venue_task: Task | None  # the venue task, closed now because everyone has been told
    still_to_phone: frozenset[int]  # expert ids who needed a call and have not been told


async def experts_needing_a_call(session: AsyncSession, engagement_id: int) -> set[int]:
    """Everyone a phone task was opened for: the written notice could not be relied on."""
    rows = await session.scalars(
        select(Task.expert_id).where(
            Task.engagement_id == engagement_id,
            Task.kind == TaskKind.PHONE_CALL,
            Task.dedupe_key.like(f"eng{engagement_id}:exp%:cancel-call"),
        )
    )
    return {expert_id for expert_id in rows if expert_id is not None}


async def still_to_phone(session: AsyncSession, engagement: Engagement) -> set[int]:
    """Needed a call and nobody has recorded telling them (a closed task is not enough:
    "no answer" closes a task too)."""
    told = {i.expert_id for i in engagement.invitations if i.told_verbally_at is not None}
    return await experts_needing_a_call(session, engagement.id) - told


async def venue_task(session: AsyncSession, engagement_id: int) -> Task | None:
    return await session.scalar(select(Task).where(Task.dedupe_key == venue_key(engagement_id)))


async def record_told_verbally(
    session: AsyncSession,
    engagement: Engagement,
    invitation: Invitation,
    note: str | None,
    now: datetime,
) -> ToldOutcome:
    """Record the first time they were told, close their call task with the note, and
    close the venue task when the last person who needed a call has been told."""
    if invitation.told_verbally_at is None:
        invitation.told_verbally_at = now
    outcome = (note or "").strip()[:_OUTCOME_LIMIT] or "told verbally"
    call = await session.scalar(
        select(Task).where(
            Task.dedupe_key == cancel_call_key(engagement.id, invitation.expert_id),
            Task.status == TaskStatus.OPEN,
        )
    )
    if call is not None:
        _close(call, outcome, now)
    remaining = await still_to_phone(session, engagement)
    venue = None
    if not remaining:
        venue = await venue_task(session, engagement.id)
        if venue is not None and venue.status is TaskStatus.OPEN:
            _close(venue, VENUE_STOOD_DOWN, now)
        else:
            venue = None
    return ToldOutcome(call, venue, frozenset(remaining))


async def undo_told_verbally(
    session: AsyncSession, engagement: Engagement, invitation: Invitation
) -> bool:
    """Take back "told by phone" recorded by mistake: they are on the call list again, their
    call task is open again, and so is the venue visit if it was stood down because of it.
    False when nothing was recorded."""
    if invitation.told_verbally_at is None:
        return False
    invitation.told_verbally_at = None
    call = await session.scalar(
        select(Task).where(Task.dedupe_key == cancel_call_key(engagement.id, invitation.expert_id))
    )
    if call is not None and call.status is not TaskStatus.OPEN:
        call.status, call.outcome, call.done_at = TaskStatus.OPEN, None, None
    venue = await venue_task(session, engagement.id)
    stood_down = (
        venue is not None and venue.status is TaskStatus.DONE and venue.outcome == VENUE_STOOD_DOWN
    )
    if venue is not None and stood_down and await still_to_phone(session, engagement):
        venue.status, venue.outcome, venue.done_at = TaskStatus.OPEN, None, None
    return True


def _close(task: Task, outcome: str, now: datetime) -> None:
    task.status = TaskStatus.DONE
    task.outcome = outcome
    task.done_at = now
