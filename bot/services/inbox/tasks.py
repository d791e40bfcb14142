"""Tasks for people: the open list (urgent first) and closing one with its outcome.

The pages and the CLI share these, so a task closed in either place reads the same: its
outcome is kept (encrypted), and any reply it was opened for counts as seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.inbox.replies import acknowledge_for_task
from bot.services.staff.access import Scope
from scheduling.people.promises import keep_by_task
from scheduling.rules.contact_rules import safe_windows
from scheduling.rules.windows import WindowError
from scheduling.text.words import label
from store import audit
from store.enums import Channel, EngagementStatus, TaskKind, TaskStatus
from store.models import ContactPoint, Expert, Reply, Staff, Task

MAX_OUTCOME = 300  # the longest outcome kept; a few words for the record, not case notes

# Tasks a person does by phone: only these show the expert's number on the task's page.
PHONE_KINDS = frozenset({TaskKind.PHONE_CALL, TaskKind.CALL_BACK})

# Quick answers offered when closing a task; free text can always be added or used instead.
PHONE_OUTCOMES = ("Spoke to them", "Left a message", "Could not reach them")
OTHER_OUTCOMES = ("Done", "Not needed any more")


@dataclass
class TaskGroups:
    """The open list as people work through it: urgent first, then calls, then the rest."""

    urgent: list[Task] = field(default_factory=list)
    calls: list[Task] = field(default_factory=list)
    others: list[Task] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.urgent) + len(self.calls) + len(self.others)


@dataclass(frozen=True)
class PhoneContact:
    """What a person needs to make a call: the number, whether calls were agreed as safe,
    and the safe times."""

    number: str
    agreed: bool
    safe_times: str


async def open_tasks(
    session: AsyncSession,
    *,
    where: ColumnElement[bool] | None = None,
    assignee: Staff | None = None,
) -> list[Task]:
    """Open tasks, urgent first, then by due time; ``where`` narrows to one person's scope."""
    query = (
        select(Task)
        .where(Task.status == TaskStatus.OPEN)
        .options(
            selectinload(Task.assignee),
            selectinload(Task.expert),
            selectinload(Task.engagement),
        )
        .order_by(Task.urgent.desc(), Task.due_at.is_(None), Task.due_at, Task.id)
    )
    if where is not None:
        query = query.where(where)
    if assignee is not None:
        query = query.where(Task.assignee_id == assignee.id)
    return list(await session.scalars(query))


def group_tasks(tasks: list[Task]) -> TaskGroups:
    """Split an ordered list into its sections, keeping the order inside each."""
    groups = TaskGroups()
    for task in tasks:
        if task.urgent:
            groups.urgent.append(task)
        elif task.kind in PHONE_KINDS:
            groups.calls.append(task)
        else:
            groups.others.append(task)
    return groups


def about_engagement(task: Task, time_zone: str) -> str:
    """The engagement a task is about, in plain words ("Ward design session, 3 December
    2026"), or "" when it is about none: a task for a cancelled engagement must not be
    mistaken for one about the same person's next meeting."""
    engagement = task.engagement
    if engagement is None:
        return ""
    day = engagement.starts_at.astimezone(ZoneInfo(time_zone)).strftime("%-d %B %Y")
    cancelled = " (cancelled)" if engagement.status is EngagementStatus.CANCELLED else ""
    return f"{engagement.title}, {day}{cancelled}"


def describe_kind(kind: TaskKind) -> str:
    """What kind of task it is, in the words of the one table."""
    return label(kind)


def outcome_choices(task: Task) -> tuple[str, ...]:
    return PHONE_OUTCOMES if task.kind in PHONE_KINDS else OTHER_OUTCOMES


def written_outcome(task: Task, choice: str, text: str) -> tuple[str | None, dict[str, str]]:
    """The outcome to keep from a quick answer and free text, or what is wrong with them.

    Errors are keyed by form field ("result", "outcome") so a page can show each by its field.
    """
    choice, text = choice.strip(), text.strip()
    if choice and choice not in outcome_choices(task):
        return None, {"result": "Choose one of the answers, or leave them all and write below"}
    if not choice and not text:
        return None, {"outcome": "Say what happened, in a few words"}
    outcome = f"{choice}: {text}" if choice and text else choice or text
    if len(outcome) > MAX_OUTCOME:
        return None, {"outcome": f"What happened must be {MAX_OUTCOME} characters or fewer"}
    return outcome, {}


async def load_task(session: AsyncSession, task: Task) -> Task:
    """The task with its assignee, expert (and their worker) and engagement, for its page."""
    loaded = await session.scalar(
        select(Task)
        .where(Task.id == task.id)
        .options(
            selectinload(Task.assignee),
            selectinload(Task.engagement),
            selectinload(Task.expert).selectinload(Expert.link_worker),
        )
        .execution_options(populate_existing=True)
    )
    assert loaded is not None
    return loaded


async def task_replies(session: AsyncSession, task: Task, scope: Scope) -> list[Reply]:
    """The replies this task was opened for (or gathered), that this person may read."""
    rows = await session.scalars(
        select(Reply)
        .where(Reply.task_id == task.id, scope.replies())
        .order_by(Reply.received_at, Reply.id)
    )
    return list(rows)


async def phone_for_task(session: AsyncSession, task: Task, scope: Scope) -> PhoneContact | None:
    """The expert's number for a phone task, only when the expert is theirs to see.

    A task can reach someone outside their scope (assigned to them, for someone else's
    expert): the task shows, the number does not.
    """
    if task.kind not in PHONE_KINDS or task.expert_id is None:
        return None
    expert = await session.scalar(
        select(Expert)
        .where(Expert.id == task.expert_id, scope.experts())
        .options(
            selectinload(Expert.contact_points),
            selectinload(Expert.consents),
            selectinload(Expert.windows),
        )
    )
    if expert is None:
        return None
    points = {p.channel: p for p in expert.contact_points}
    point: ContactPoint | None = points.get(Channel.PHONE) or points.get(Channel.SMS)
    if point is None:
        return None
    agreed = point.opted_out_at is None and any(
        c.channel is Channel.PHONE and c.allowed for c in expert.consents
    )
    try:
        safe_times = "; ".join(w.describe() for w in safe_windows(expert, Channel.PHONE))
    except WindowError:
        safe_times = "their safe-contact settings need checking first"
    return PhoneContact(number=point.value, agreed=agreed, safe_times=safe_times)


async def close_task(
    session: AsyncSession,
    task_id: int,
    outcome: str,
    now: datetime,
    by: Staff | None = None,
    *,
    actor: str | None = None,
) -> Task | None:
    """Done: and any reply it was opened for has been seen by a person.

    None when there is no open task of that id. With ``actor`` the closing is recorded in
    the audit trail here (the CLI records its own).
    """
    task = await session.get(Task, task_id)
    if task is None or task.status is not TaskStatus.OPEN:
        return None
    task.status = TaskStatus.DONE
    task.outcome = outcome.strip()[:MAX_OUTCOME] or "done"
    task.done_at = now
    await acknowledge_for_task(session, task.id, by, now=now)
    await keep_by_task(session, task, now)  # a promise this task was opened for is kept
    if actor is not None:
        audit.record(
            session, actor=actor, action="task.done", entity="task", entity_id=task.id, at=now
        )
    return task
