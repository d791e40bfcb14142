"""The recurring jobs besides sending: plan pastoral contact, hand work to cover, purge.

Each runs in its own transaction and, on PostgreSQL, under an advisory lock so that with
several workers one does the job and the others skip it.

How long things are kept is the organisation's choice, made on the privacy page and stored
as `OrgSetting` rows; the environment only gives the starting values. The purge reads the
rows every time it runs, so a change on the page applies at the next purge.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from scheduling.clock import Clock, local_today
from scheduling.job_lock import try_job_lock
from scheduling.people.followups import FollowupReport, open_due_followups
from scheduling.people.payment_alerts import alert_unpaid
from scheduling.people.promises import escalate_overdue
from scheduling.planning.pastoral_planner import PastoralReport, pastoral_candidates, plan_pastoral
from scheduling.rules.cover import responsible_staff
from store.changed import rows_changed
from store.enums import FINAL_STATUSES, MessageStatus, TaskStatus
from store.models import AuditEvent, ExpertDraft, Message, OrgSetting, Reply, Staff, StaffNote, Task
from store.models.drafts import DRAFT_LIFETIME

log = logging.getLogger(__name__)

PLAN_CHUNK = 2000  # experts per transaction

# The organisation's retention choices (`OrgSetting` rows holding {"days": N}).
MESSAGE_RETENTION_KEY = "message_retention_days"
RECORD_RETENTION_KEY = "record_retention_days"
LEAVER_RETENTION_KEY = "leaver_retention_days"
# Tasks, staff notes and the audit trail: six years, the usual period for records of work
# with people.
DEFAULT_RECORD_RETENTION_DAYS = 2190
# Someone who left: their personal record goes a year after they left (time enough for a
# last payment, a question, a change of heart), unless something still needs it.
DEFAULT_LEAVER_RETENTION_DAYS = 365

# Erases the records of people who left before the cutoff; returns how many went. It is
# passed in (bot.bootstrap) because erasure is the administrators' service, a layer above.
EraseLeavers = Callable[[AsyncSession, datetime, datetime], Awaitable[int]]


@dataclass(frozen=True)
class MaintenanceConfig:
    pastoral_min_days: int = 7
    silence_days: int = 90
    retention: timedelta = timedelta(days=90)
    record_retention: timedelta = timedelta(days=DEFAULT_RECORD_RETENTION_DAYS)
    leaver_retention: timedelta = timedelta(days=DEFAULT_LEAVER_RETENTION_DAYS)


@dataclass(frozen=True)
class Retention:
    """How long message texts and replies are kept, how long tasks and the audit log, and
    how long the record of someone who left."""

    messages: timedelta
    records: timedelta
    leavers: timedelta


def setting_days(value: dict[str, Any] | None) -> int | None:
    """The whole number of days an `OrgSetting` value holds, or None when it holds none."""
    days = (value or {}).get("days")
    return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None


async def retention_in_force(session: AsyncSession, config: MaintenanceConfig) -> Retention:
    """The administrators' choice where they made one, else the configured default."""
    keys = (MESSAGE_RETENTION_KEY, RECORD_RETENTION_KEY, LEAVER_RETENTION_KEY)
    rows = await session.scalars(select(OrgSetting).where(OrgSetting.key.in_(keys)))
    chosen = {row.key: setting_days(row.value) for row in rows}
    messages, records = chosen.get(MESSAGE_RETENTION_KEY), chosen.get(RECORD_RETENTION_KEY)
    leavers = chosen.get(LEAVER_RETENTION_KEY)
    return Retention(
        messages=timedelta(days=messages) if messages else config.retention,
        records=timedelta(days=records) if records else config.record_retention,
        leavers=timedelta(days=leavers) if leavers else config.leaver_retention,
    )


class Maintenance:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        config: MaintenanceConfig | None = None,
        *,
        office_tz: str,
        erase_leavers: EraseLeavers | None = None,
    ) -> None:
        """``office_tz`` is the organisation's zone: staff away days are office days;
        ``erase_leavers`` is how the purge erases people who left long enough ago."""
        self.erase_leavers = erase_leavers
        self.sessions = sessions
        self.clock = clock
        self.config = config or MaintenanceConfig()
        self.office_tz = office_tz

    async def plan_pastoral(self) -> PastoralReport:
        """Plan in chunks, each its own short transaction: SQLite's write lock and the
        memory in use stay small however many experts there are. With several workers the
        lock lets one chunk be planned at a time; a chunk another worker holds is skipped
        (planning it again later finds nothing new)."""
        now = self.clock.now()
        async with self.sessions() as session:
            ids = await pastoral_candidates(session)
        total = PastoralReport()
        for start in range(0, len(ids), PLAN_CHUNK):
            async with self.sessions.begin() as session:
                if not await try_job_lock(session, "plan_pastoral"):
                    continue
                report = await plan_pastoral(
                    session,
                    now,
                    min_days=self.config.pastoral_min_days,
                    expert_ids=ids[start : start + PLAN_CHUNK],
                )
            total.planned += report.planned
            total.drafts += report.drafts
            total.skipped_contact_soon += report.skipped_contact_soon
        if total.planned:
            log.info("planned %d pastoral messages (%d drafts)", total.planned, total.drafts)
        return total

    async def open_followups(self) -> FollowupReport | None:
        """Tasks for people: pauses that have ended, long silences."""
        async with self.sessions.begin() as session:
            if not await try_job_lock(session, "open_followups"):
                return None
            return await open_due_followups(
                session, self.clock.now(), silence_days=self.config.silence_days
            )

    async def hand_tasks_to_cover(self) -> int:
        """Open tasks of someone who is now away go to their cover, so nothing waits."""
        now = self.clock.now()
        moved = 0
        async with self.sessions.begin() as session:
            if not await try_job_lock(session, "hand_tasks_to_cover"):
                return 0
            tasks = await session.scalars(
                select(Task)
                .where(Task.status == TaskStatus.OPEN, Task.assignee_id.is_not(None))
                .options(joinedload(Task.assignee).joinedload(Staff.cover))
            )
            for task in tasks:
                assert task.assignee is not None
                staff = responsible_staff(task.assignee, local_today(now, self.office_tz))
                if staff.id != task.assignee.id:
                    task.assignee_id = staff.id
                    moved += 1
        if moved:
            log.info("handed %d open tasks to cover", moved)
        return moved

    async def escalate_promises(self) -> int:
        """Every few minutes: a promise past its deadline and not kept reaches a person."""
        async with self.sessions.begin() as session:
            if not await try_job_lock(session, "escalate_promises"):
                return 0
            return await escalate_overdue(session, self.clock.now(), self.office_tz)

    async def alert_unpaid_payments(self) -> int:
        """Hourly: an approved payment unpaid past the organisation's limit alerts admins."""
        async with self.sessions.begin() as session:
            if not await try_job_lock(session, "alert_unpaid_payments"):
                return 0
            return await alert_unpaid(session, self.clock.now(), self.office_tz)

    async def purge(self) -> int:
        """Delete message texts and replies past the message retention period, keeping the
        facts (who, when, which channel, what happened); delete closed tasks, staff notes and
        audit events past the (longer) record retention period; erase the record of anyone
        who left longer ago than the leavers' period. Open tasks are never deleted: they are
        work someone still has to do."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            if not await try_job_lock(session, "purge"):
                return 0
            retention = await retention_in_force(session, self.config)
            deleted = await _purge_texts(session, now - retention.messages)
            deleted += await _purge_records(session, now - retention.records)
            if self.erase_leavers is not None:
                deleted += await self.erase_leavers(session, now - retention.leavers, now)
            deleted += await rows_changed(  # half-finished "add an expert" forms
                session,
                delete(ExpertDraft)
                .where(ExpertDraft.updated_at < now - DRAFT_LIFETIME)
                .execution_options(synchronize_session=False),
            )
        return deleted


async def _purge_texts(session: AsyncSession, cutoff: datetime) -> int:
    settled = [*FINAL_STATUSES, MessageStatus.SENT, MessageStatus.UNCERTAIN]
    messages = await rows_changed(
        session,
        update(Message)
        .where(
            Message.status.in_(settled),
            Message.updated_at < cutoff,
            Message.body.is_not(None) | Message.personal_note.is_not(None),
        )
        .values(subject=None, body=None, personal_note=None)
        .execution_options(synchronize_session=False),
    )
    replies = await rows_changed(
        session,
        delete(Reply)
        .where(Reply.received_at < cutoff)
        .execution_options(synchronize_session=False),
    )
    return messages + replies


async def _purge_records(session: AsyncSession, cutoff: datetime) -> int:
    tasks = await rows_changed(
        session,
        delete(Task)
        .where(
            Task.status.in_((TaskStatus.DONE, TaskStatus.CANCELLED)),
            func.coalesce(Task.done_at, Task.created_at) < cutoff,
        )
        .execution_options(synchronize_session=False),
    )
    notes = await rows_changed(
        session,
        delete(StaffNote)
        .where(StaffNote.created_at < cutoff)
        .execution_options(synchronize_session=False),
    )
    events = await rows_changed(
        session,
        delete(AuditEvent)
        .where(AuditEvent.at < cutoff)
        .execution_options(synchronize_session=False),
    )
    removed = tasks + notes + events
    if removed:
        log.info(
            "deleted %d closed tasks, staff notes and audit events past the record retention",
            removed,
        )
    return removed
