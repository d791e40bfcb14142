"""Staff accounts: link workers and administrators, with cover while away."""

from __future__ import annotations

from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.expert_input import normalise_phone
from store import audit
from store.enums import Channel, Role
from store.models import Staff


class StaffError(ValueError):
    pass


async def find_staff(session: AsyncSession, key: str) -> Staff | None:
    query = select(Staff).options(selectinload(Staff.cover))
    if key.isdigit():
        return await session.scalar(query.where(Staff.id == int(key)))
    return await session.scalar(query.where(Staff.email == key.strip().lower()))


async def create_staff(
    session: AsyncSession,
    *,
    name: str,
    email: str,
    role: Role,
    now: datetime,
    actor: str,
) -> Staff:
    if not name.strip():
        raise StaffError("a staff member needs a name")
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise StaffError(f"{email!r} is not a valid email address: {exc}") from None
    if await find_staff(session, email):
        raise StaffError(f"a staff member with email {email} already exists")
    staff = Staff(name=name.strip(), email=email, role=role, created_at=now)
    session.add(staff)
    await session.flush()
    audit.record(
        session, actor=actor, action="staff.created", entity="staff", entity_id=staff.id, at=now
    )
    return staff


async def set_cover(
    session: AsyncSession,
    staff: Staff,
    cover: Staff | None,
    away_from: date | None,
    away_until: date | None,
    *,
    now: datetime,
    actor: str,
) -> None:
    if cover is not None and cover.id == staff.id:
        raise StaffError("someone cannot cover for themselves")
    if away_from and away_until and away_until < away_from:
        raise StaffError("the last day away is before the first")
    staff.cover_id = cover.id if cover else None
    staff.away_from, staff.away_until = away_from, away_until
    audit.record(
        session, actor=actor, action="staff.cover_set", entity="staff", entity_id=staff.id, at=now
    )


async def set_alert_route(
    session: AsyncSession,
    staff: Staff,
    channel: Channel,
    to: str | None,
    *,
    now: datetime,
    actor: str,
) -> None:
    """Where urgent alerts reach them: a phone for texts, a Telegram chat, or their email."""
    if channel is Channel.EMAIL:
        staff.alert_channel, staff.alert_to = None, None
    elif channel is Channel.SMS:
        try:
            staff.alert_to = normalise_phone(to or "")
        except ValueError as exc:
            raise StaffError(f"the alert phone number is not usable: {exc}") from None
        staff.alert_channel = channel
    elif channel is Channel.TELEGRAM:
        chat = (to or "").strip()
        if not chat.lstrip("-").isdigit() or len(chat) > 20:
            raise StaffError("a Telegram chat id is a number, such as 123456789")
        staff.alert_channel, staff.alert_to = channel, chat
    else:
        raise StaffError("alerts go by text, Telegram or email")
    audit.record(
        session,
        actor=actor,
        action="staff.alert_route_set",
        entity="staff",
        entity_id=staff.id,
        at=now,
        channel=channel.value,
    )


async def list_staff(session: AsyncSession) -> list[Staff]:
    return list(await session.scalars(select(Staff).order_by(Staff.id)))
