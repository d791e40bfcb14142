"""Retention after leaving: the daily purge erases the record of someone who left longer
ago than the period on the Privacy page, with the same erasure administrators use.

A record something still needs is kept: an open task about them (work someone still has
to do) or a payment line not yet paid or declined (money we owe them). Their link worker,
or whoever covers today, gets one task saying why it was kept; once that is settled and
the task closed, the next purge erases it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts.leaving import responsible_today
from bot.services.privacy.erasure import erase_expert
from bot.services.privacy.subject_access import who
from scheduling.people.tasks import open_task
from store.enums import ExpertStatus, PaymentStatus, TaskKind, TaskStatus
from store.models import Expert, Invitation, PaymentLine, Task

log = logging.getLogger(__name__)

ACTOR = "Linkline (retention after leaving)"
UNSETTLED = (PaymentStatus.OWED, PaymentStatus.APPROVED)


def _kept_key(expert_id: int) -> str:
    return f"kept:exp{expert_id}"


async def still_needed(session: AsyncSession, expert_id: int) -> list[str]:
    """Why their record must stay for now, in words for staff; empty when nothing needs it."""
    why: list[str] = []
    open_tasks = await session.scalar(
        select(func.count(Task.id)).where(
            Task.expert_id == expert_id,
            Task.status == TaskStatus.OPEN,
            Task.dedupe_key.is_distinct_from(_kept_key(expert_id)),
        )
    )
    if open_tasks:
        why.append(f"{open_tasks} open task{'s' if open_tasks != 1 else ''} about them")
    unpaid = await session.scalar(
        select(func.count(PaymentLine.id))
        .join(Invitation, PaymentLine.invitation_id == Invitation.id)
        .where(Invitation.expert_id == expert_id, PaymentLine.status.in_(UNSETTLED))
    )
    if unpaid:
        why.append(f"{unpaid} payment{'s' if unpaid != 1 else ''} not yet paid or declined")
    return why


async def erase_leavers(session: AsyncSession, cutoff: datetime, now: datetime) -> int:
    """Erase everyone who withdrew before ``cutoff`` and whose record nothing needs; for the
    rest, one task each says what keeps it. Returns how many records were erased."""
    leavers = list(
        await session.scalars(
            select(Expert)
            .where(Expert.status == ExpertStatus.WITHDRAWN, Expert.withdrawn_at < cutoff)
            .order_by(Expert.id)
        )
    )
    erased = 0
    for expert in leavers:
        why = await still_needed(session, expert.id)
        if why:
            await _say_why_kept(session, expert, why, now)
            continue
        await erase_expert(session, expert, confirmation=who(expert), now=now, actor=ACTOR)
        erased += 1
    if erased:
        log.info("erased %d records of people who left, past the retention period", erased)
    return erased


async def _say_why_kept(
    session: AsyncSession, expert: Expert, why: list[str], now: datetime
) -> None:
    worker = await responsible_today(session, expert, now)
    await open_task(
        session,
        kind=TaskKind.EXPERT_LEFT,
        title="A record kept after leaving",
        details=f"{expert.preferred_name} left long enough ago that their record would now "
        f"be erased, as the Privacy page says, but it is kept because of "
        f"{' and '.join(why)}. Once those are settled, the record is erased the next day.",
        assignee=worker,
        expert=expert,
        now=now,
        dedupe_key=_kept_key(expert.id),
    )
