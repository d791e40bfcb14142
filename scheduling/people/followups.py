"""Follow-ups for people, never messages: a gentle hello when a pause ends, a check-in
after a long silence or several missed meetings, and a warm note after a missed one
(R-3.4, R-3.6).

Nothing here sends anything to an expert. Each follow-up is a task for their link worker
(or the cover while they are away), with a suggested script from ``templates/tasks/``: a
person decides whether, how and when to use it. Every task has a dedupe key, so the
periodic job can run as often as it likes and one event never gives two tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from sqlalchemy import Subquery, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from scheduling.clock import local_today
from scheduling.people.handoff import TASK_TITLES
from scheduling.people.tasks import open_task
from scheduling.rules.contact_rules import safe_windows
from scheduling.rules.cover import responsible_staff
from scheduling.rules.windows import WindowError
from scheduling.rules.wording import spoken_datetime
from scheduling.text.context import signature
from scheduling.text.rendering import DEFAULT_TEMPLATE_DIR, RenderError
from store.enums import Channel, EngagementStatus, ExpertStatus, TaskKind, TaskStatus
from store.models import Engagement, Expert, Invitation, Reply, Staff, Task

_CHUNK = 500  # keys per IN (...) query: well under SQLite's limit on bound values
_NOTE_DUE = timedelta(days=2)  # a warm note means most soon after the meeting
_ROUTE_NAMES = {
    Channel.SMS: "text message",
    Channel.TELEGRAM: "Telegram",
    Channel.EMAIL: "email",
    Channel.LETTER: "letter",
    Channel.PHONE: "phone call",
}


@dataclass
class FollowupReport:
    """How many tasks this pass opened (tasks that already existed are not counted)."""

    welcome_back: int = 0
    get_in_touch: int = 0


@dataclass(frozen=True)
class MissedFollowup:
    note: Task  # the warm "missed you" note for a person to send
    check_in: Task | None  # several missed in a row: check in by a safe route
    in_a_row: int


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
    wanted = await _keys_without_tasks(session, due)
    for expert in await _load_experts(session, wanted.values()):
        assert expert.paused_until is not None
        await open_task(
            session,
            kind=TaskKind.WELCOME_BACK,
            title=TASK_TITLES[TaskKind.WELCOME_BACK],
            details=render_task_script(
                "welcome_back",
                **_person(expert, now),
                ended=_spoken_date(expert.paused_until),
            ),
            assignee=_staff(expert, now),
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
    wanted = await _keys_without_tasks(session, due)
    for expert in await _load_experts(session, wanted.values()):
        last = last_heard[expert.id]
        await open_task(
            session,
            kind=TaskKind.GET_IN_TOUCH,
            title=TASK_TITLES[TaskKind.GET_IN_TOUCH],
            details=render_task_script(
                "get_in_touch",
                **_person(expert, now),
                missed_in_a_row=0,
                last_heard=_spoken_date(last.astimezone(ZoneInfo(expert.time_zone)).date()),
            ),
            assignee=_staff(expert, now),
            expert=expert,
            now=now,
            dedupe_key=silence_key(expert.id, last),
        )
    return len(wanted)


# --- missed meetings --------------------------------------------------------------------


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
    (expert,) = await _load_experts(session, [invitation.expert_id])
    starts = engagement.starts_at.astimezone(ZoneInfo(expert.time_zone))
    note = await _open_or_reopen(
        session,
        kind=TaskKind.MISSED_YOU,
        details=render_task_script(
            "missed_you",
            **_person(expert, now),
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
                "get_in_touch", **_person(expert, now), missed_in_a_row=len(run), last_heard=""
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
    staff = _staff(expert, now)
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


# --- shared -----------------------------------------------------------------------------


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(DEFAULT_TEMPLATE_DIR / "tasks"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_task_script(template: str, /, **context: Any) -> str:
    """A task's details from ``templates/tasks/<name>.txt``; a missing value is an error."""
    try:
        return _templates().get_template(f"{template}.txt").render(**context).strip()
    except TemplateError as exc:
        raise RenderError(f"template tasks/{template}.txt could not be used: {exc}") from exc


def _person(expert: Expert, now: datetime) -> dict[str, str]:
    """Who they are, who is writing, and how and when it is safe to reach them."""
    consented = {c.channel for c in expert.consents if c.allowed}
    routes = [c for c in expert.channel_order() if c in consented]
    if routes:
        route = ", or else ".join(_ROUTE_NAMES[c] for c in routes)
    else:
        route = "none is confirmed as safe yet, so check their record before any contact"
    try:
        windows = safe_windows(expert, routes[0] if routes else expert.preferred_channel)
        safe_times = "; ".join(w.describe() for w in windows)
    except WindowError:
        safe_times = "their safe-contact settings need checking first"
    return {
        "name": expert.preferred_name,
        "worker": signature(expert, now),
        "route": route,
        "safe_times": safe_times,
    }


def _staff(expert: Expert, now: datetime) -> Staff:
    return responsible_staff(expert.link_worker, local_today(now, expert.time_zone))


def _spoken_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


async def _keys_without_tasks(session: AsyncSession, wanted: dict[str, int]) -> dict[str, int]:
    """The keys no task has yet, looked up in a few queries however many there are."""
    keys = list(wanted)
    taken: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        taken.update(
            k
            for k in await session.scalars(
                select(Task.dedupe_key).where(Task.dedupe_key.in_(chunk))
            )
            if k is not None
        )
    return {k: v for k, v in wanted.items() if k not in taken}


async def _load_experts(session: AsyncSession, ids: Iterable[int]) -> list[Expert]:
    """With what a task needs: their worker and cover, consent and safe windows."""
    wanted = sorted(set(ids))
    experts: list[Expert] = []
    for start in range(0, len(wanted), _CHUNK):
        experts.extend(
            await session.scalars(
                select(Expert)
                .where(Expert.id.in_(wanted[start : start + _CHUNK]))
                .order_by(Expert.id)
                .options(
                    selectinload(Expert.link_worker).selectinload(Staff.cover),
                    selectinload(Expert.consents),
                    selectinload(Expert.windows),
                )
            )
        )
    return experts
