"""After a missed meeting: a warm note for a person to send, and a check-in when several
were missed in a row (R-3.6). Withdrawn again if the attendance is corrected.

Nothing here sends anything to an expert: each is a task for their link worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.people.handoff import TASK_TITLES
from scheduling.people.task_scripts import (
    load_experts,
    person_context,
    render_task_script,
    staff_for,
)
from scheduling.people.tasks import open_task
from scheduling.rules.wording import spoken_datetime
from store.enums import EngagementStatus, TaskKind, TaskStatus
from store.models import Engagement, Expert, Invitation, Task

_NOTE_DUE = timedelta(days=2)  # a warm note means most soon after the meeting


@dataclass(frozen=True)
class MissedFollowup:
    note: Task  # the warm "missed you" note for a person to send
    check_in: Task | None  # several missed in a row: check in by a safe route
    in_a_row: int


def missed_you_key(engagement_id: int, expert_id: int) -> str:
    return f"eng{engagement_id}:exp{expert_id}:missed-you"


def missed_run_key(expert_id: int, first_missed_engagement_id: int) -> str:
    """Keyed on where the run of missed meetings began: one run, one check-in."""
    return f"exp{expert_id}:missed-run:eng{first_missed_engagement_id}"


async def open_missed_you(
    session: AsyncSession, invitation: Invitation, now: datetime
) -> MissedFollowup:
    """A suggested warm note for a person to send, and a check-in after two or more
    missed in a row. The caller has recorded ``invitation.attended = False``."""
    engagement = invitation.engagement
    (expert,) = await load_experts(session, [invitation.expert_id])
    starts = engagement.starts_at.astimezone(ZoneInfo(expert.time_zone))
    note = await _open_or_reopen(
        session,
        kind=TaskKind.MISSED_YOU,
        details=render_task_script(
            "missed_you",
            **person_context(expert, now),
            title=engagement.title,
            when=spoken_datetime(engagement.starts_at, expert.time_zone),
            weekday=f"{starts:%A}",
        ),
        expert=expert,
        engagement=engagement,
        due_at=now + _NOTE_DUE,
        now=now,
        dedupe_key=missed_you_key(engagement.id, expert.id),
    )
    run = await _missed_run(session, expert.id, engagement)
    check_in = None
    if len(run) >= 2:
        check_in = await _open_or_reopen(
            session,
            kind=TaskKind.GET_IN_TOUCH,
            details=render_task_script(
                "get_in_touch",
                **person_context(expert, now),
                missed_in_a_row=len(run),
                last_heard="",
            ),
            expert=expert,
            engagement=engagement,
            due_at=None,
            now=now,
            dedupe_key=missed_run_key(expert.id, run[-1]),
        )
    return MissedFollowup(note, check_in, len(run))


async def withdraw_missed_you(session: AsyncSession, invitation: Invitation, now: datetime) -> int:
    """They came after all: the note, and any check-in this absence started, are not needed."""
    tasks = await session.scalars(
        select(Task).where(
            Task.status == TaskStatus.OPEN,
            or_(
                Task.dedupe_key == missed_you_key(invitation.engagement_id, invitation.expert_id),
                and_(
                    Task.kind == TaskKind.GET_IN_TOUCH,
                    Task.expert_id == invitation.expert_id,
                    Task.engagement_id == invitation.engagement_id,
                ),
            ),
        )
    )
    withdrawn = 0
    for task in tasks:
        task.status = TaskStatus.CANCELLED
        task.outcome = "not needed: the attendance was corrected, they came"
        task.done_at = now
        withdrawn += 1
    return withdrawn


async def _missed_run(session: AsyncSession, expert_id: int, engagement: Engagement) -> list[int]:
    """Engagement ids of the missed meetings in a row up to this one, newest first."""
    rows = await session.execute(
        select(Invitation.engagement_id, Invitation.attended)
        .join(Engagement, Engagement.id == Invitation.engagement_id)
        .where(
            Invitation.expert_id == expert_id,
            Invitation.attended.is_not(None),
            Engagement.status != EngagementStatus.CANCELLED,
            or_(
                Engagement.starts_at < engagement.starts_at,
                and_(Engagement.starts_at == engagement.starts_at, Engagement.id <= engagement.id),
            ),
        )
        .order_by(Engagement.starts_at.desc(), Engagement.id.desc())
    )
    run: list[int] = []
    for engagement_id, attended in rows:
        if attended:
            break
        run.append(engagement_id)
    return run


async def _open_or_reopen(
    session: AsyncSession,
    *,
    kind: TaskKind,
    details: str,
    expert: Expert,
    engagement: Engagement,
    due_at: datetime | None,
    now: datetime,
    dedupe_key: str,
) -> Task:
    """Like ``open_task``, but a task withdrawn by a correction comes back when the
    correction is itself corrected (missed, came, then missed after all)."""
    existing = await session.scalar(select(Task).where(Task.dedupe_key == dedupe_key))
    staff = staff_for(expert, now)
    if existing is not None:
        if existing.status is TaskStatus.CANCELLED:
            existing.status = TaskStatus.OPEN
            existing.outcome = None
            existing.done_at = None
            existing.details = details
            existing.assignee_id = staff.id
            existing.due_at = due_at
        return existing
    return await open_task(
        session,
        kind=kind,
        title=TASK_TITLES[kind],
        details=details,
        assignee=staff,
        expert=expert,
        engagement=engagement,
        due_at=due_at,
        now=now,
        dedupe_key=dedupe_key,
    )
