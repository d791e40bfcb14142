"""Staff accounts: link workers and administrators, with cover while away."""

from __future__ import annotations

from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from store import audit
from store.enums import Role
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


async def list_staff(session: AsyncSession) -> list[Staff]:
    return list(await session.scalars(select(Staff).order_by(Staff.id)))
