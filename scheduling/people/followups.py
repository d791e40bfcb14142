"""Follow-ups for people, never messages: a gentle hello when a pause ends, a check-in
after a long silence or several missed meetings, and a warm note after a missed one
(R-3.4, R-3.6).

Nothing here sends anything to an expert. Each follow-up is a task for their link worker
(or the cover while they are away), with a suggested script from ``templates/tasks/``: a
person decides whether, how and when to use it. Every task has a dedupe key, so the
periodic job can run as often as it likes and one event never gives two tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Subquery, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.clock import local_today
from scheduling.people.handoff import TASK_TITLES
from scheduling.people.task_scripts import (
    keys_without_tasks,
    load_experts,
    person_context,
    render_task_script,
    spoken_date,
    staff_for,
)
from scheduling.people.tasks import open_task
from store.enums import ExpertStatus, TaskKind
from store.models import Engagement, Expert, Invitation, Reply, Task


@dataclass
class FollowupReport:
    """How many tasks this pass opened (tasks that already existed are not counted)."""

    welcome_back: int = 0
    get_in_touch: int = 0


async def open_due_followups(
    session: AsyncSession, now: datetime, *, silence_days: int
) -> FollowupReport:
    """The periodic pass: pauses that have ended, and people not heard from for a while."""
    return FollowupReport(
        welcome_back=await _welcome_backs(session, now),
        get_in_touch=await _long_silences(session, now, silence_days),
    )


# --- pauses that have ended -------------------------------------------------------------


def welcome_back_key(expert_id: int, paused_until: date) -> str:
    return f"exp{expert_id}:welcome-back:{paused_until.isoformat()}"


async def _welcome_backs(session: AsyncSession, now: datetime) -> int:
    # A local date is at most a day ahead of UTC's, so this finds every pause that has
    # ended somewhere; each person's own calendar then decides.
    horizon = (now + timedelta(days=1)).date()
    rows = await session.execute(
        select(Expert.id, Expert.paused_until, Expert.time_zone).where(
            Expert.status == ExpertStatus.ACTIVE,
            Expert.paused_until.is_not(None),
            Expert.paused_until <= horizon,
        )
    )
    due = {
        welcome_back_key(expert_id, until): expert_id
        for expert_id, until, tz in rows
        if until is not None and local_today(now, tz) >= until
    }
    wanted = await keys_without_tasks(session, due)
    for expert in await load_experts(session, wanted.values()):
        assert expert.paused_until is not None
        await open_task(
            session,
            kind=TaskKind.WELCOME_BACK,
            title=TASK_TITLES[TaskKind.WELCOME_BACK],
            details=render_task_script(
                "welcome_back",
                **person_context(expert, now),
                ended=spoken_date(expert.paused_until),
            ),
            assignee=staff_for(expert, now),
            expert=expert,
            now=now,
            dedupe_key=welcome_back_key(expert.id, expert.paused_until),
        )
    return len(wanted)


# --- long silences ----------------------------------------------------------------------


def silence_key(expert_id: int, last_heard: datetime) -> str:
    """One silence, one task: a new sign of life starts a new silence with a new key."""
    return f"exp{expert_id}:silence:{last_heard.astimezone(UTC).date().isoformat()}"


def _latest(expert_id: Any, moment: Any, *where: Any, join: Any = None) -> Subquery:
    query = select(expert_id.label("expert_id"), func.max(moment).label("at"))
    if join is not None:
        query = query.join(*join)
    return query.where(*where).group_by(expert_id).subquery()


async def _long_silences(session: AsyncSession, now: datetime, silence_days: int) -> int:
    """Everyone active and not paused whose last sign of life is ``silence_days`` old.

    A sign of life is a reply, an answer to an invitation, a meeting they came to, coming
    back from a pause, or (when there is nothing else) joining. One query finds them all.
    """
    silence = timedelta(days=silence_days)
    cutoff = now - silence
    signs = [
        _latest(Reply.expert_id, Reply.received_at, Reply.expert_id.is_not(None)),
        _latest(Invitation.expert_id, Invitation.answered_at, Invitation.answered_at.is_not(None)),
        _latest(
            Invitation.expert_id,
            Engagement.ends_at,
            Invitation.attended.is_(True),
            join=(Engagement, Engagement.id == Invitation.engagement_id),
        ),
    ]
    # The last silence task, so an old reply deleted under the retention period cannot
    # make the same silence look new.
    flagged = _latest(
        Task.expert_id,
        Task.created_at,
        Task.kind == TaskKind.GET_IN_TOUCH,
        Task.dedupe_key.like("exp%:silence:%"),
    )
    query = select(
        Expert.id,
        Expert.created_at,
        Expert.paused_until,
        Expert.time_zone,
        flagged.c.at,
        Expert.resumed_at,  # coming back from a pause counts as hearing from them
        *(s.c.at for s in signs),
    ).outerjoin(flagged, flagged.c.expert_id == Expert.id)
    for sign in signs:
        query = query.outerjoin(sign, sign.c.expert_id == Expert.id)
    query = query.where(
        Expert.status == ExpertStatus.ACTIVE,
        Expert.created_at <= cutoff,
        # Still paused, or back too recently: not a silence (exact check below).
        or_(
            Expert.paused_until.is_(None),
            Expert.paused_until <= (cutoff + timedelta(days=1)).date(),
        ),
        or_(Expert.resumed_at.is_(None), Expert.resumed_at <= cutoff),
        *(or_(s.c.at.is_(None), s.c.at <= cutoff) for s in signs),
    )
    due: dict[str, int] = {}
    last_heard: dict[int, datetime] = {}
    rows = await session.execute(query)
    for expert_id, created_at, paused_until, tz, flagged_at, *moments in rows:
        heard = [created_at, *(m for m in moments if m is not None)]
        if paused_until is not None:  # time they asked for is not silence
            heard.append(datetime.combine(paused_until, time(0), tzinfo=ZoneInfo(tz)))
        last = max(heard)
        if now - last >= silence and (flagged_at is None or flagged_at < last):
            due[silence_key(expert_id, last)] = expert_id
            last_heard[expert_id] = last
    wanted = await keys_without_tasks(session, due)
    for expert in await load_experts(session, wanted.values()):
        last = last_heard[expert.id]
        await open_task(
            session,
            kind=TaskKind.GET_IN_TOUCH,
            title=TASK_TITLES[TaskKind.GET_IN_TOUCH],
            details=render_task_script(
                "get_in_touch",
                **person_context(expert, now),
                missed_in_a_row=0,
                last_heard=spoken_date(last.astimezone(ZoneInfo(expert.time_zone)).date()),
            ),
            assignee=staff_for(expert, now),
            expert=expert,
            now=now,
            dedupe_key=silence_key(expert.id, last),
        )
    return len(wanted)
