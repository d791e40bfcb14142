"""Planning pastoral messages into the outbox, for everyone at once, in a few queries.

Runs as a recurring job. Each expert's last contact of any kind is found with grouped
queries (not one per person), so planning stays fast for a large organisation; see
benchmarks/plan.py. Messages are planned a day ahead, which is when drafts that need
approval appear as their link worker's tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, TypeAlias, cast

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from scheduling.clock import local_today
from scheduling.planning.pastoral_drafts import Addressee, approval_task_row
from scheduling.rules.cover import responsible_staff
from scheduling.rules.pastoral import STILL_USEFUL, at_send_time, choose_variant, pastoral_due
from store.enums import (
    ExpertStatus,
    MessageStatus,
    PastoralLevel,
    Purpose,
    TaskKind,
    TaskStatus,
)
from store.models import Expert, Message, Reply, Staff, Task

LOOKAHEAD = timedelta(days=1)
# Something else is already on its way: a hello on top of it would be one message too many.
OTHER_CONTACT_SOON = timedelta(days=3)
# Work a person did with the expert that counts as being in touch.
_PERSONAL_CONTACT = (
    TaskKind.PHONE_CALL,
    TaskKind.MISSED_YOU,
    TaskKind.WELCOME_BACK,
    TaskKind.GET_IN_TOUCH,
)
_CHUNK = 5000  # ids per IN (...) list: well under every database's parameter limit
# The tables themselves, for Core INSERTs of plain rows (no ORM bookkeeping per row).
_MESSAGES = cast(Table, Message.__table__)
_TASKS = cast(Table, Task.__table__)


@dataclass
class PastoralReport:
    planned: int = 0
    drafts: int = 0  # of those, waiting for approval
    skipped_contact_soon: int = 0


def _candidates() -> Select[Expert]:
    """Experts whose level and status allow a hello; :func:`_waiting` removes those with
    one still to go."""
    return (
        select(Expert)
        .where(Expert.pastoral_level != PastoralLevel.OFF)
        .where(Expert.status == ExpertStatus.ACTIVE)
    )


async def _waiting(session: AsyncSession, ids: list[int] | None) -> set[int]:
    """Those of these experts (default: everyone) with a pastoral message still to go:
    nothing new can be due for them.

    A query of its own, not NOT EXISTS in the experts' query: the job inserts thousands
    of pastoral messages before the database's statistics know of them, and PostgreSQL
    then planned that anti-join as a nested loop over every new message for every
    expert (seconds a chunk, growing as the job went on)."""
    query = (
        select(Message.expert_id)
        .where(
            Message.purpose == Purpose.PASTORAL,
            Message.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
        )
        .distinct()
    )
    if ids is None:
        return set(await session.scalars(query))
    waiting: set[int] = set()
    for chunk in _chunks(ids):
        waiting.update(await session.scalars(query.where(Message.expert_id.in_(chunk))))
    return waiting


async def pastoral_candidates(session: AsyncSession) -> list[int]:
    """Ids of experts who may be due a hello, so the job can plan them in small chunks."""
    rows = await session.scalars(_candidates().with_only_columns(Expert.id).order_by(Expert.id))
    waiting = await _waiting(session, None)
    return [expert_id for expert_id in rows if expert_id not in waiting]


class _Candidate(NamedTuple):
    """The columns of an expert that pastoral planning reads: no ORM object each, so
    100,000 of them cost little time and memory."""

    id: int
    time_zone: str
    pastoral_level: PastoralLevel
    paused_until: date | None
    created_at: datetime
    link_worker_id: int


async def plan_pastoral(
    session: AsyncSession,
    now: datetime,
    *,
    min_days: int,
    lookahead: timedelta = LOOKAHEAD,
    expert_ids: Sequence[int] | None = None,
) -> PastoralReport:
    """Plan what is due within ``lookahead`` for these experts (default: everyone).

    A fixed number of queries however many experts: their columns, those with a hello
    still to go, their link workers, one grouped query per kind of contact, and the
    INSERTs."""
    report = PastoralReport()
    query = _candidates().with_only_columns(*_candidate_columns())
    if expert_ids is not None:
        query = query.where(Expert.id.in_(expert_ids))
    found = [_Candidate(*row) for row in await session.execute(query.order_by(Expert.id))]
    waiting = await _waiting(session, [e.id for e in found])
    experts = [e for e in found if e.id not in waiting]
    ids = [e.id for e in experts]
    staff = await _link_workers(session, {e.link_worker_id for e in experts})
    sent = await _grouped(session, ids, _last_sent)
    replied = await _grouped(session, ids, _last_reply)
    called = await _grouped(session, ids, _last_personal_contact)
    previous = await _previous_pastoral(session, ids)
    busy = await _contact_coming(session, ids, now)
    rows: list[dict[str, Any]] = []
    drafts: dict[str, tuple[_Candidate, Staff]] = {}
    today_in: dict[str, date] = {}
    for expert in experts:
        today = today_in.get(expert.time_zone)
        if today is None:
            today = today_in[expert.time_zone] = local_today(now, expert.time_zone)
        if expert.paused_until is not None and today < expert.paused_until:
            continue
        last, variant = previous.get(expert.id, (None, None))
        due = pastoral_due(
            expert.pastoral_level,
            tz=expert.time_zone,
            since=expert.created_at,
            last_contact=_latest(
                sent.get(expert.id), replied.get(expert.id), called.get(expert.id)
            ),
            last_pastoral=last,
            min_days=min_days,
        )
        if due is None or due > now + lookahead:
            continue
        if expert.id in busy:
            report.skipped_contact_soon += 1
            continue
        link_worker = staff[expert.link_worker_id]
        needs_approval = link_worker.approve_pastoral
        if due < now:
            # Overdue (a first run, the end of a pause): the next good hour, or a day
            # ahead for a draft, so its link worker has time to approve it.
            due = at_send_time(
                now + (lookahead if needs_approval else timedelta(0)), expert.time_zone
            )
        key = f"exp{expert.id}:pastoral:{due:%Y%m%d}"
        rows.append(
            {
                "expert_id": expert.id,
                "engagement_id": None,
                "purpose": Purpose.PASTORAL,
                "idempotency_key": key,
                "due_at": due,
                "next_attempt_at": due,
                "not_after": due + STILL_USEFUL,
                "status": MessageStatus.PENDING,
                "variant": choose_variant(variant),
                "needs_approval": needs_approval,
                "created_at": now,
                "updated_at": now,
            }
        )
        if needs_approval:
            drafts[key] = (expert, responsible_staff(link_worker, today))
    if rows:
        # One multi-row INSERT (not one statement per message), returning the ids that
        # approval tasks point at; Core, as the rows are plain column values.
        inserted = await session.execute(
            insert(_MESSAGES).returning(
                _MESSAGES.c.id, _MESSAGES.c.idempotency_key, _MESSAGES.c.due_at
            ),
            rows,
        )
        made = [(message_id, key, due_at) for message_id, key, due_at in inserted if key in drafts]
        names = await _names(session, [drafts[key][0].id for _, key, _ in made])
        tasks = []
        for message_id, key, due_at in made:
            expert, assignee = drafts[key]
            to = Addressee(expert.id, names[expert.id], expert.time_zone)
            tasks.append(approval_task_row(message_id, due_at, to, assignee, now))
        if tasks:
            await session.execute(insert(_TASKS), tasks)
        report.planned, report.drafts = len(rows), len(tasks)
    return report


def _candidate_columns() -> tuple[InstrumentedAttribute[Any], ...]:
    return tuple(getattr(Expert, name) for name in _Candidate._fields)


async def _link_workers(session: AsyncSession, ids: set[int]) -> dict[int, Staff]:
    """The few link workers of these experts, each with their cover (for drafts)."""
    if not ids:
        return {}
    query = select(Staff).where(Staff.id.in_(ids)).options(joinedload(Staff.cover))
    return {staff.id: staff for staff in await session.scalars(query)}


async def _names(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    """Names for the approval tasks only: decrypting everyone's would be wasted work."""
    names: dict[int, str] = {}
    for chunk in _chunks(ids):
        query = select(Expert.id, Expert.preferred_name).where(Expert.id.in_(chunk))
        for expert_id, name in await session.execute(query):
            names[expert_id] = name
    return names


# Per expert, the latest moment of something (some columns are nullable in the schema).
_Latest: TypeAlias = "Select[int | None, datetime | None]"


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


async def _grouped(
    session: AsyncSession,
    ids: list[int],
    query: Callable[[list[int]], _Latest],
) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        rows = await session.execute(query(chunk))
        out.update({expert_id: at for expert_id, at in rows if expert_id is not None and at})
    return out


def _last_sent(ids: list[int]) -> _Latest:
    return (
        select(Message.expert_id, func.max(Message.sent_at))
        .where(Message.expert_id.in_(ids), Message.sent_at.is_not(None))
        .group_by(Message.expert_id)
    )


def _last_reply(ids: list[int]) -> _Latest:
    return (
        select(Reply.expert_id, func.max(Reply.received_at))
        .where(Reply.expert_id.in_(ids))
        .group_by(Reply.expert_id)
    )


def _last_personal_contact(ids: list[int]) -> _Latest:
    return (
        select(Task.expert_id, func.max(Task.done_at))
        .where(
            Task.expert_id.in_(ids),
            Task.status == TaskStatus.DONE,
            Task.kind.in_(_PERSONAL_CONTACT),
        )
        .group_by(Task.expert_id)
    )


async def _previous_pastoral(
    session: AsyncSession, ids: list[int]
) -> dict[int, tuple[datetime, int | None]]:
    """Each expert's latest pastoral message (whatever became of it) and its wording."""
    out: dict[int, tuple[datetime, int | None]] = {}
    for chunk in _chunks(ids):
        latest = (
            select(func.max(Message.id))
            .where(Message.expert_id.in_(chunk), Message.purpose == Purpose.PASTORAL)
            .group_by(Message.expert_id)
        )
        rows = await session.execute(
            select(Message.expert_id, Message.due_at, Message.variant).where(Message.id.in_(latest))
        )
        out.update({expert_id: (due, variant) for expert_id, due, variant in rows})
    return out


async def _contact_coming(session: AsyncSession, ids: list[int], now: datetime) -> set[int]:
    busy: set[int] = set()
    for chunk in _chunks(ids):
        rows = await session.scalars(
            select(Message.expert_id)
            .where(
                Message.expert_id.in_(chunk),
                Message.status.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
                Message.purpose != Purpose.PASTORAL,
                Message.next_attempt_at < now + OTHER_CONTACT_SOON,
            )
            .distinct()
        )
        busy.update(rows)
    return busy
