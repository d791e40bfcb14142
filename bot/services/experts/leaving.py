"""Leaving with care: when an expert withdraws, everything automated stops at once, their
open invitations are withdrawn (each engagement's lead is told), their link worker gets an
exit-conversation task with a script, and an optional goodbye in the link worker's own
words goes through the gate like any other message.

What is kept afterwards, and for how long, is what the Privacy page says: the daily purge
erases their record that long after they left (bot.services.privacy.leavers), unless a task
about them is still open or a payment to them unsettled. The exit script, the page and the
command line say the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bot.services.experts.profile import ExpertError, load_profile
from scheduling.clock import local_today
from scheduling.maintenance import Retention
from scheduling.people.task_scripts import person_context, render_task_script
from scheduling.people.tasks import close_obsolete_tasks, open_task
from scheduling.rules.characters import typeable
from scheduling.rules.cover import responsible_staff
from scheduling.rules.wording import spoken_datetime
from store import audit
from store.enums import (
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    Purpose,
    TaskKind,
)
from store.models import Engagement, Expert, Invitation, Message, Staff, Task

LEFT = "they have left"
MAX_REASON, MAX_GOODBYE = 500, 1000
EXIT_TASK_DUE = timedelta(days=7)
GOODBYE_USEFUL = timedelta(days=14)


@dataclass(frozen=True)
class Leaving:
    """What withdrawing did, for the page and the command line."""

    cancelled: int  # automated messages that will never go
    invitations: int  # open invitations withdrawn (their leads have a task each)
    goodbye: bool  # a goodbye waits for the gate
    exit_task: Task
    erase_on: str  # "3 December 2027": the day the purge erases their record


async def responsible_today(session: AsyncSession, expert: Expert, now: datetime) -> Staff:
    """Their link worker, or the cover while they are away, read afresh: either may be in
    the session already (as the person signed in) without what this needs."""
    worker = await session.get(Staff, expert.link_worker_id, populate_existing=True)
    assert worker is not None  # a foreign key
    cover = None
    if worker.cover_id is not None:
        cover = await session.get(Staff, worker.cover_id, populate_existing=True)
    set_committed_value(worker, "cover", cover)  # what the rules read, with no lazy load
    return responsible_staff(worker, local_today(now, expert.time_zone))


def check_words(reason: str, goodbye: str | None) -> tuple[str, str | None]:
    """The reason (required) and the goodbye (optional), tidied; refused before anything
    changes when blank, too long or holding characters nobody types."""
    reason, goodbye = reason.strip(), (goodbye or "").strip() or None
    if not reason:
        raise ExpertError(
            "give a reason, in a few words",
            field="reason",
            plain="Say in a few words why they are leaving",
        )
    if len(reason) > MAX_REASON or not typeable(reason, multi_line=True):
        raise ExpertError(
            f"the reason must be plain text of at most {MAX_REASON} characters",
            field="reason",
            plain=f"Use plain text, at most {MAX_REASON} characters",
        )
    if goodbye is not None and (
        len(goodbye) > MAX_GOODBYE or not typeable(goodbye, multi_line=True)
    ):
        raise ExpertError(
            f"the goodbye must be plain text of at most {MAX_GOODBYE} characters",
            field="goodbye",
            plain=f"Use plain text, at most {MAX_GOODBYE} characters",
        )
    return reason, goodbye


async def withdraw_expert(
    session: AsyncSession,
    expert_id: int,
    *,
    reason: str,
    by: Staff,
    goodbye: str | None,
    retention: Retention,
    now: datetime,
    actor: str,
) -> Leaving:
    """Withdraw them; refused (nothing changed) when they already left, or when someone
    other than their link worker (or the person covering today) writes the goodbye."""
    reason, goodbye = check_words(reason, goodbye)
    expert = await load_profile(session, expert_id)
    if expert.status is ExpertStatus.WITHDRAWN:
        raise ExpertError("they have already withdrawn", plain="They have already left")
    worker = await responsible_today(session, expert, now)
    if goodbye is not None and by.id not in (expert.link_worker_id, worker.id):
        raise ExpertError(
            "only their link worker (or whoever covers for them today) can write their goodbye",
            field="goodbye",
            plain="Only their link worker, or whoever covers for them today, can write the goodbye",
        )
    expert.status, expert.paused_until = ExpertStatus.WITHDRAWN, None
    expert.withdrawn_at = expert.updated_at = now
    expert.withdrawal_reason = reason
    cancelled = await _stop_messages(session, expert.id, now)
    titles = await _withdraw_invitations(session, expert, now)
    if goodbye is not None:
        session.add(_goodbye(expert, goodbye, by, now))
    task = await open_task(
        session,
        kind=TaskKind.EXIT_CONVERSATION,
        title="A conversation about leaving",
        details=render_task_script(
            "exit_conversation",
            **person_context(expert, now),
            reason=reason,
            invitations="; ".join(titles),
            retention=_kept(retention, erase_date(now + retention.leavers, expert.time_zone)),
        ),
        assignee=worker,
        expert=expert,
        due_at=now + EXIT_TASK_DUE,
        now=now,
    )
    audit.record(
        session,
        actor=actor,
        action="expert.withdrawn",
        entity="expert",
        entity_id=expert.id,
        at=now,
        cancelled=cancelled,
        invitations=len(titles),
        goodbye=goodbye is not None,
    )
    return Leaving(
        cancelled,
        len(titles),
        goodbye is not None,
        task,
        erase_date(now + retention.leavers, expert.time_zone),
    )


async def _stop_messages(session: AsyncSession, expert_id: int, now: datetime) -> int:
    """Every message still waiting is cancelled; its approval task, if any, closes too."""
    waiting = list(
        await session.scalars(
            select(Message).where(
                Message.expert_id == expert_id, Message.status == MessageStatus.PENDING
            )
        )
    )
    for message in waiting:
        message.move(MessageStatus.CANCELLED, LEFT, now)
    await close_obsolete_tasks(session, [m.id for m in waiting], "They have left.", now)
    return len(waiting)


async def _withdraw_invitations(session: AsyncSession, expert: Expert, now: datetime) -> list[str]:
    """Invitations to engagements still ahead are withdrawn (recorded as a no, so nothing
    more is planned); each lead, or their cover, gets a task saying so."""
    rows = await session.scalars(
        select(Invitation)
        .join(Engagement)
        .where(
            Invitation.expert_id == expert.id,
            Invitation.answer != InvitationAnswer.NO,
            Engagement.status.in_((EngagementStatus.DRAFT, EngagementStatus.PUBLISHED)),
            Engagement.ends_at > now,
        )
        .options(selectinload(Invitation.engagement).selectinload(Engagement.lead))
    )
    titles = []
    for invitation in rows:
        engagement, said_yes = invitation.engagement, invitation.answer is InvitationAnswer.YES
        invitation.answer, invitation.answered_at = InvitationAnswer.NO, now
        when = spoken_datetime(engagement.starts_at, expert.time_zone)
        titles.append(f"{engagement.title}, {when}")
        lead = responsible_staff(engagement.lead, local_today(now, expert.time_zone))
        await open_task(
            session,
            kind=TaskKind.EXPERT_LEFT,
            title="Someone invited has left",
            details=f"{expert.preferred_name} has left, so their invitation to "
            f"{engagement.title} on {when} is withdrawn and nothing more goes to them about "
            f"it.{' They had said yes: plan for one person fewer.' if said_yes else ''}",
            assignee=lead,
            engagement=engagement,
            now=now,
            dedupe_key=f"left:exp{expert.id}:eng{engagement.id}",
        )
    return titles


def _goodbye(expert: Expert, words: str, by: Staff, now: datetime) -> Message:
    """Their link worker's own words, approved as they wrote them; sent like any message."""
    return Message(
        expert_id=expert.id,
        purpose=Purpose.GOODBYE,
        idempotency_key=f"goodbye:exp{expert.id}",
        due_at=now,
        next_attempt_at=now,
        not_after=now + GOODBYE_USEFUL,
        status=MessageStatus.PENDING,
        personal_note=words,
        approved_at=now,
        approved_by_id=by.id,
        created_at=now,
        updated_at=now,
    )


def erase_date(moment: datetime, tz: str) -> str:
    """A day as people write it, with the year: "3 December 2027"."""
    return moment.astimezone(ZoneInfo(tz)).strftime("%-d %B %Y")


def _kept(retention: Retention, erase_on: str) -> str:
    return (
        f"the words of messages and replies for {retention.messages.days} days after they "
        f"are settled, and their record until {erase_on}, when it is erased, as the Privacy "
        f"page says (later only while a payment to them or a task about them is still open)"
    )
