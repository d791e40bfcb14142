"""Nothing waits unseen: a reply no person has acknowledged in time reaches someone else.

The limit is a working day for an ordinary reply and an hour for a worrying one (both set
by the organisation). Past it, the link worker's cover is alerted, or every administrator
when there is no cover to ask; each reply escalates once, and it keeps showing its age
until someone acknowledges it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from channels.working_days import is_working_day
from scheduling.clock import Clock, local_today
from scheduling.people.staff_alerts import alert_each
from store.enums import Role
from store.models import Reply, Staff, Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AckLimits:
    """How long a reply may wait, counted on the office's calendar (``office_tz``, the
    organisation's zone from the settings): a working day ends at the office, not in UTC."""

    working_days: int = 1
    urgent: timedelta = timedelta(hours=1)
    office_tz: str = field(kw_only=True)

    @property
    def office_zone(self) -> ZoneInfo:
        return ZoneInfo(self.office_tz)


def ack_deadline(received_at: datetime, urgent: bool, limits: AckLimits) -> datetime:
    """When a person should have seen it: the same time of day N working days on (Scottish
    bank holidays and weekends skipped), or within the hour when it is worrying."""
    if urgent:
        return received_at + limits.urgent
    office = limits.office_zone
    local = received_at.astimezone(office)
    day, left = local.date(), limits.working_days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    due = datetime.combine(day, local.time(), tzinfo=office)
    return due.astimezone(received_at.tzinfo or office)


async def escalation_targets(
    session: AsyncSession, assignee: Staff | None, now: datetime, office_tz: str
) -> list[Staff]:
    """The assignee's cover when there is one at work (away days are office days, so
    ``office_tz``), otherwise every active administrator."""
    today = local_today(now, office_tz)
    if assignee is not None:
        cover = assignee.cover
        if (
            cover is not None
            and cover.active
            and cover.id != assignee.id
            and not cover.is_away(today)
        ):
            return [cover]
    admins = list(
        await session.scalars(
            select(Staff).where(Staff.role == Role.ADMIN, Staff.active.is_(True)).order_by(Staff.id)
        )
    )
    others = [a for a in admins if assignee is None or a.id != assignee.id]
    return others or admins


@dataclass
class ReplyEscalation:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    limits: AckLimits

    async def run(self) -> int:
        """Escalate every reply past its limit; the number escalated."""
        now = self.clock.now()
        escalated = 0
        async with self.sessions.begin() as session:
            waiting = await session.scalars(
                select(Reply)
                .where(
                    Reply.needs_person.is_(True),
                    Reply.acknowledged_at.is_(None),
                    Reply.escalated_at.is_(None),
                    Reply.received_at <= now - min(self.limits.urgent, timedelta(hours=24)),
                )
                .order_by(Reply.received_at)
                .limit(500)
                .with_for_update(skip_locked=True)
            )
            for reply in waiting:
                if reply.expert_id is None and not reply.urgent:
                    continue  # a stranger's message waits in the list for an administrator
                if ack_deadline(reply.received_at, reply.urgent, self.limits) > now:
                    continue
                task = (
                    await session.scalar(
                        select(Task)
                        .where(Task.id == reply.task_id)
                        .options(selectinload(Task.assignee).selectinload(Staff.cover))
                    )
                    if reply.task_id
                    else None
                )
                assignee = task.assignee if task is not None else None
                targets = await escalation_targets(session, assignee, now, self.limits.office_tz)
                if not targets:
                    log.error("reply %s is overdue and there is no administrator to tell", reply.id)
                    continue
                await alert_each(
                    session,
                    targets,
                    reason="overdue_reply",
                    task=task,
                    about=f"overdue:{reply.id}",
                    now=now,
                )
                reply.escalated_at = now
                escalated += 1
        if escalated:
            log.warning(
                "%d replies waited past their limit; cover or administrators alerted", escalated
            )
        return escalated
