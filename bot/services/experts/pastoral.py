"""Keeping in touch: each expert's contact level, and drafts link workers approve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services.experts.introductions import queue_summary
from scheduling.clock import local_today
from scheduling.planning.pastoral_drafts import DraftError, approve_draft, close_approval_task
from scheduling.rules.cover import responsible_staff
from scheduling.rules.pastoral import PastoralError, check_level
from store import audit
from store.enums import MessageStatus, PastoralLevel, Purpose
from store.errors import Refused
from store.models import Expert, Message, Staff

_LEVEL_WORDS = {
    "off": PastoralLevel.OFF,
    "never": PastoralLevel.OFF,
    "none": PastoralLevel.OFF,
    "only when there is work": PastoralLevel.OFF,
    "monthly": PastoralLevel.MONTHLY,
    "month": PastoralLevel.MONTHLY,
    "fortnightly": PastoralLevel.FORTNIGHTLY,
    "every two weeks": PastoralLevel.FORTNIGHTLY,
    "every 2 weeks": PastoralLevel.FORTNIGHTLY,
    "weekly": PastoralLevel.WEEKLY,
    "week": PastoralLevel.WEEKLY,
}
LEVELS_HELP = "off, monthly, fortnightly or weekly"


class PastoralSettingError(Refused):
    pass


def parse_level(text: str) -> PastoralLevel:
    key = " ".join(text.strip().lower().split())
    if key not in _LEVEL_WORDS:
        raise PastoralSettingError(
            f"unknown contact level {text.strip()!r}: use {LEVELS_HELP}",
            field="level",
            plain=f"Choose how often to keep in touch ({LEVELS_HELP})",
        )
    return _LEVEL_WORDS[key]


async def set_contact_level(
    session: AsyncSession,
    expert: Expert,
    level: PastoralLevel,
    *,
    min_days: int,
    now: datetime,
    actor: str,
) -> int:
    """Set the level the expert chose; returns how many planned hellos were withdrawn.

    Turning it down withdraws planned pastoral messages at once: a choice to hear less
    is honoured from that moment, not from the next one.
    """
    check_level(level, min_days)
    previous = expert.pastoral_level
    expert.pastoral_level, expert.updated_at = level, now
    withdrawn = 0
    if level is PastoralLevel.OFF or _less_often(level, previous):
        for message in await session.scalars(
            select(Message).where(
                Message.expert_id == expert.id,
                Message.purpose == Purpose.PASTORAL,
                Message.status == MessageStatus.PENDING,
            )
        ):
            message.move(MessageStatus.CANCELLED, "their contact level changed", now)
            if message.needs_approval:
                await close_approval_task(session, message, "their contact level changed", now)
            withdrawn += 1
    audit.record(
        session,
        actor=actor,
        action="expert.contact_level",
        entity="expert",
        entity_id=expert.id,
        at=now,
        level=level.value,
    )
    await queue_summary(session, expert, now)
    return withdrawn


async def keep_in_touch(
    session: AsyncSession,
    expert: Expert,
    level_text: str,
    bank_holidays: bool | None,
    *,
    min_days: int,
    now: datetime,
    actor: str,
) -> int:
    """The keeping-in-touch form: the level as they said it, and whether bank holidays are
    fine (None: leave as it is). Only what changed is recorded. Returns how many planned
    hellos were withdrawn; raises PastoralSettingError (field ``level``) before changing
    anything when the level cannot be used.
    """
    level = parse_level(level_text)
    withdrawn = 0
    if level is not expert.pastoral_level:
        try:
            withdrawn = await set_contact_level(
                session, expert, level, min_days=min_days, now=now, actor=actor
            )
        except PastoralError as exc:
            raise PastoralSettingError(
                str(exc),
                field="level",
                plain="That is more often than your organisation allows: choose a longer gap",
            ) from None
    if bank_holidays is not None and bank_holidays != expert.contact_on_bank_holidays:
        await set_bank_holidays(session, expert, bank_holidays, now=now, actor=actor)
    return withdrawn


def _less_often(new: PastoralLevel, old: PastoralLevel) -> bool:
    order = [PastoralLevel.OFF, PastoralLevel.MONTHLY, PastoralLevel.FORTNIGHTLY]
    order.append(PastoralLevel.WEEKLY)
    return order.index(new) < order.index(old)


async def set_bank_holidays(
    session: AsyncSession, expert: Expert, allowed: bool, *, now: datetime, actor: str
) -> None:
    expert.contact_on_bank_holidays, expert.updated_at = allowed, now
    audit.record(
        session,
        actor=actor,
        action="expert.bank_holidays",
        entity="expert",
        entity_id=expert.id,
        at=now,
        allowed=allowed,
    )


async def set_approval(
    session: AsyncSession, staff: Staff, required: bool, *, now: datetime, actor: str
) -> None:
    staff.approve_pastoral = required
    audit.record(
        session,
        actor=actor,
        action="staff.approve_pastoral",
        entity="staff",
        entity_id=staff.id,
        at=now,
        required=required,
    )


async def pending_drafts(session: AsyncSession) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(
            Message.purpose == Purpose.PASTORAL,
            Message.status == MessageStatus.PENDING,
            Message.needs_approval.is_(True),
        )
        .options(joinedload(Message.expert).joinedload(Expert.link_worker))
        .order_by(Message.due_at, Message.id)
    )
    return list(rows)


async def approve(
    session: AsyncSession,
    message_id: int,
    staff: Staff | None,
    note: str | None,
    *,
    now: datetime,
    actor: str,
) -> Message:
    """``staff`` None: the expert's link worker approves (or their cover, while away)."""
    if staff is None:
        expert = await session.scalar(
            select(Expert)
            .join(Message, Message.expert_id == Expert.id)
            .where(Message.id == message_id)
            .options(joinedload(Expert.link_worker).joinedload(Staff.cover))
        )
        if expert is None:
            raise DraftError(f"there is no keeping-in-touch draft {message_id}")
        staff = responsible_staff(expert.link_worker, local_today(now, expert.time_zone))
    message = await approve_draft(session, message_id, staff, note, now)
    audit.record(
        session,
        actor=actor,
        action="pastoral.approved",
        entity="message",
        entity_id=message.id,
        at=now,
        by_staff=staff.id,
        with_note=bool(message.personal_note),
    )
    return message
