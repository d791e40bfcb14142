"""Staff accounts: link workers and administrators, with cover while away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.contact_details import normalise_phone
from bot.services.staff.sessions import end_all_sessions
from store import audit
from store.changed import rows_changed
from store.enums import Channel, Role, TaskStatus
from store.errors import Refused
from store.models import Expert, Staff, Task


class StaffError(Refused):
    """A change to a staff account that cannot be made; the message says why.

    ``field`` names the form field it is about, so a web page can show it there.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
        raise StaffError("a staff member needs a name", "name")
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise StaffError(f"{email!r} is not a valid email address: {exc}", "email") from None
    if await find_staff(session, email):
        raise StaffError(f"a staff member with email {email} already exists", "email")
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
            raise StaffError(f"the alert phone number is not usable: {exc}", "alert_to") from None
        staff.alert_channel = channel
    elif channel is Channel.TELEGRAM:
        chat = (to or "").strip()
        if not chat.lstrip("-").isdigit() or len(chat) > 20:
            raise StaffError("a Telegram chat id is a number, such as 123456789", "alert_to")
        staff.alert_channel, staff.alert_to = channel, chat
    else:
        raise StaffError("alerts go by text, Telegram or email", "alert_channel")
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
    rows = await session.scalars(
        select(Staff).options(selectinload(Staff.cover)).order_by(Staff.id)
    )
    return list(rows)


async def active_admin_count(session: AsyncSession) -> int:
    query = select(func.count(Staff.id)).where(Staff.role == Role.ADMIN, Staff.active.is_(True))
    return int(await session.scalar(query) or 0)


async def expert_count(session: AsyncSession, staff_id: int) -> int:
    """Experts whose link worker this person is (whatever their status: each needs someone)."""
    query = select(func.count(Expert.id)).where(Expert.link_worker_id == staff_id)
    return int(await session.scalar(query) or 0)


async def open_task_count(session: AsyncSession, staff_id: int) -> int:
    query = select(func.count(Task.id)).where(
        Task.assignee_id == staff_id, Task.status == TaskStatus.OPEN
    )
    return int(await session.scalar(query) or 0)


async def _is_last_admin(session: AsyncSession, staff: Staff) -> bool:
    return staff.role is Role.ADMIN and staff.active and await active_admin_count(session) <= 1


async def change_role(
    session: AsyncSession, staff: Staff, role: Role, *, now: datetime, actor: str
) -> bool:
    """False when they already had that role. The last active administrator keeps the role:
    without one, nobody could set passwords, unlock accounts or read the audit log."""
    if staff.role is role:
        return False
    if role is not Role.ADMIN and await _is_last_admin(session, staff):
        raise StaffError(
            f"{staff.name} is the only active administrator, so they must stay one. "
            "Make someone else an administrator first",
            "role",
        )
    staff.role = role
    await end_all_sessions(session, staff.id, now=now)  # what they may see has changed
    audit.record(
        session,
        actor=actor,
        action="staff.role_changed",
        entity="staff",
        entity_id=staff.id,
        at=now,
        role=role.value,
    )
    return True


@dataclass(frozen=True)
class ClosedAccount:
    """What closing an account moved on, so the page can say so."""

    tasks_moved: int
    no_longer_covering: int


async def close_staff(
    session: AsyncSession, staff: Staff, *, by: Staff, now: datetime, actor: str
) -> ClosedAccount:
    """Close someone's account, leaving nobody without a person.

    Refused for oneself, for the last active administrator, and while they are still
    anyone's link worker. Their open tasks go to the administrator closing the account,
    and anyone they were covering for is left without cover rather than with a closed one.
    """

    if not staff.active:
        raise StaffError(f"{staff.name}'s account is already closed", "confirm_close")
    if staff.id == by.id:
        raise StaffError(
            "You cannot close your own account. Ask another administrator", "confirm_close"
        )
    if await _is_last_admin(session, staff):
        raise StaffError(
            f"{staff.name} is the only active administrator, so their account cannot be "
            "closed. Make someone else an administrator first",
            "confirm_close",
        )
    experts = await expert_count(session, staff.id)
    if experts:
        noun = "expert" if experts == 1 else "experts"
        raise StaffError(
            f"{staff.name} is still the link worker for {experts} {noun}. Hand each of them "
            "to another link worker first, then close the account",
            "confirm_close",
        )
    moved = await rows_changed(
        session,
        update(Task)
        .where(Task.assignee_id == staff.id, Task.status == TaskStatus.OPEN)
        .values(assignee_id=by.id)
        .execution_options(synchronize_session=False),
    )
    uncovered = await rows_changed(
        session,
        update(Staff)
        .where(Staff.cover_id == staff.id)
        .values(cover_id=None)
        .execution_options(synchronize_session=False),
    )
    await close_account(session, staff, now=now, actor=actor)
    report = ClosedAccount(moved, uncovered)
    if report.tasks_moved or report.no_longer_covering:
        audit.record(
            session,
            actor=actor,
            action="staff.work_handed_on",
            entity="staff",
            entity_id=staff.id,
            at=now,
            tasks_to=by.id,
            tasks=report.tasks_moved,
            cover_cleared=report.no_longer_covering,
        )
    return report


async def close_account(session: AsyncSession, staff: Staff, *, now: datetime, actor: str) -> None:
    """They can no longer sign in, and any page they have open stops working."""
    staff.active = False
    await end_all_sessions(session, staff.id, now=now)
    audit.record(
        session, actor=actor, action="staff.closed", entity="staff", entity_id=staff.id, at=now
    )


async def an_administrator_can_sign_in(session: AsyncSession) -> bool:
    """Whether the staff pages can be used yet: someone must be able to add everyone else."""
    found = await session.scalar(
        select(Staff.id).where(
            Staff.active.is_(True), Staff.password_hash.is_not(None), Staff.role == Role.ADMIN
        )
    )
    return found is not None
