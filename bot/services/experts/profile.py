"""Adding experts and reading their profile: contact details encrypted, lookups by keyed
hash, consent recorded; pausing and resuming contact.

Consent and channel order live in ``consent``, safe-contact windows in ``windows``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.experts.details import ExpertDetails, ExpertInput
from bot.services.experts.introductions import queue_summary, queue_welcome
from bot.services.staff.access import Scope
from bot.services.staff.accounts import find_staff
from scheduling.clock import local_today
from store import audit
from store.crypto import Cipher
from store.enums import Channel, ExpertStatus
from store.errors import Refused
from store.models import ChannelConsent, ContactPoint, ContactWindow, Expert, Staff

# Channels whose contact value can arrive inbound and must be matched without decrypting.
_INDEXED = (Channel.SMS, Channel.PHONE, Channel.TELEGRAM, Channel.EMAIL)


# A safe phone can stop being safe: the safe-contact profile is gone through again after this.
SAFE_CONTACT_RECHECK = timedelta(days=90)


class ExpertError(Refused):
    """A change to an expert that the rules refuse."""


async def create_expert(
    session: AsyncSession,
    cipher: Cipher,
    data: ExpertInput,
    *,
    actor: str,
    now: datetime,
    safe_contact_confirmed_by: Staff | None = None,
    welcome: bool = True,
) -> Expert:
    """Add one expert. ``safe_contact_confirmed_by``: the person who just went through the
    safe-contact profile with them (a form filled in with the expert), so it counts from now.
    With a channel agreed, their welcome is planned (``welcome=False``: someone who has
    known us for years, added to Linkline, needs none).
    """
    worker = await find_staff(session, data.link_worker)
    if worker is None:
        raise ExpertError(f"no staff member with email {data.link_worker!r}")
    if data.ref and await session.scalar(select(Expert.id).where(Expert.ref == data.ref)):
        raise ExpertError(
            f"an expert with ref {data.ref!r} already exists",
            field="ref",
            plain="Another expert already has this reference: choose a different one",
        )
    if problem := data.consent_date_problem(local_today(now, data.time_zone)):
        raise ExpertError(
            problem,
            field="consent_confirmed_on",
            plain="The day consent was confirmed cannot be in the future",
        )
    confirmer = None
    if data.consent_confirmed_by:
        confirmer = await find_staff(session, data.consent_confirmed_by)
        if confirmer is None:
            raise ExpertError(f"no staff member with email {data.consent_confirmed_by!r}")
    expert = Expert(
        ref=data.ref,
        preferred_name=data.preferred_name,
        time_zone=data.time_zone,
        language=data.language,
        access_needs=[n.value for n in data.access_needs],
        preferred_channel=data.preferred_channel,
        fallback_channels=[c.value for c in data.fallback_channels],
        discreet=data.discreet,
        pastoral_level=data.pastoral_level,
        payment_preference=data.payment_preference,
        link_worker_id=worker.id,
        created_at=now,
        updated_at=now,
    )
    if safe_contact_confirmed_by is not None:
        expert.safe_contact_confirmed_at = now
        expert.safe_contact_confirmed_by_id = safe_contact_confirmed_by.id
    verified = (
        datetime.combine(data.consent_confirmed_on, time(12), tzinfo=UTC)
        if data.consent_confirmed_on and confirmer
        else None
    )
    for channel in Channel:
        value = data.address_for(channel)
        if value is None:
            continue
        expert.contact_points.append(
            ContactPoint(
                channel=channel,
                value=value,
                lookup_hash=cipher.blind_index(value) if channel in _INDEXED else None,
                verified_at=verified,
            )
        )
    agreed = False  # a channel agreed: their welcome is planned
    for channel, consent in data.consent.items():
        if consent.allowed and confirmer and data.consent_confirmed_on:
            agreed = True
            expert.consents.append(
                ChannelConsent(
                    channel=channel,
                    allowed=True,
                    details_safe=consent.details_safe,
                    confirmed_on=data.consent_confirmed_on,
                    confirmed_by_id=confirmer.id,
                )
            )
    for window in data.windows:
        parsed = window.parsed()
        expert.windows.append(
            ContactWindow(
                channel=window.channel, days=window.days, start=parsed.start, end=parsed.end
            )
        )
    session.add(expert)
    await session.flush()
    audit.record(
        session, actor=actor, action="expert.created", entity="expert", entity_id=expert.id, at=now
    )
    if agreed and welcome:
        await queue_welcome(session, expert, now)
    await queue_summary(session, expert, now)
    return expert


async def load_experts(session: AsyncSession) -> list[Expert]:
    rows = await session.scalars(
        select(Expert)
        .order_by(Expert.id)
        .options(
            selectinload(Expert.link_worker),
            selectinload(Expert.consents).selectinload(ChannelConsent.confirmed_by),
            selectinload(Expert.contact_points),
            selectinload(Expert.windows),
        )
    )
    return list(rows)


async def find_expert(session: AsyncSession, key: str) -> Expert | None:
    """By id or by the organisation's reference: names are encrypted and not unique."""
    query = select(Expert).options(selectinload(Expert.link_worker))
    if key.isdigit():
        return await session.scalar(query.where(Expert.id == int(key)))
    return await session.scalar(query.where(Expert.ref == key))


def who(expert: Expert) -> str:
    """How a command refers to them: the organisation's reference, never the name."""
    return expert.ref or str(expert.id)


def is_paused(expert: Expert, now: datetime) -> bool:
    """Paused until they get in touch, or until a date still ahead on their own calendar."""
    if expert.status is ExpertStatus.PAUSED:
        return True
    return bool(expert.paused_until and local_today(now, expert.time_zone) < expert.paused_until)


def describe_status(expert: Expert, now: datetime) -> str:
    """Active, withdrawn, or paused and until when (a dated pause ends on its own)."""
    if expert.status is ExpertStatus.PAUSED:
        return "paused until they get in touch"
    if is_paused(expert, now) and expert.paused_until is not None:
        return f"paused until {expert.paused_until.isoformat()}"
    return expert.status.value


async def pause_expert(
    session: AsyncSession, expert: Expert, *, until: date | None, now: datetime, actor: str
) -> None:
    """Stop all but essential news, keeping their place, invitations and history (R-3.4).

    With a return date the pause ends by itself on that day in their own time zone, and
    their link worker gets a task to get in touch gently. Without one it lasts until they
    get in touch.
    """
    if expert.status is ExpertStatus.WITHDRAWN:
        raise ExpertError(
            f"expert {who(expert)} has withdrawn, so there is nothing to pause",
            plain="They have withdrawn, so there is nothing to pause",
        )
    today = local_today(now, expert.time_zone)
    if until is not None and until <= today:
        raise ExpertError(
            f"the pause must end after today ({today.isoformat()}): give a later date, or "
            "leave out --until to pause until they get in touch",
            field="pause_until",
            plain="The pause must end after today: choose a later date, or pause until "
            "they get in touch",
        )
    # A dated pause is a date, not a status, so it ends without anyone having to act.
    expert.status = ExpertStatus.PAUSED if until is None else ExpertStatus.ACTIVE
    expert.paused_until = until
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.paused",
        entity="expert",
        entity_id=expert.id,
        at=now,
        dated=until is not None,
    )


async def resume_expert(
    session: AsyncSession, expert: Expert, *, now: datetime, actor: str
) -> None:
    """They are back: contact starts again, and this counts as hearing from them."""
    if expert.status is ExpertStatus.WITHDRAWN:
        raise ExpertError(
            f"expert {who(expert)} has withdrawn, not paused",
            plain="They have withdrawn, so contact cannot start again from here",
        )
    if expert.status is ExpertStatus.ACTIVE and expert.paused_until is None:
        raise ExpertError(f"expert {who(expert)} is not paused", plain="They are not paused")
    expert.status = ExpertStatus.ACTIVE
    expert.paused_until = None
    expert.resumed_at = expert.updated_at = now
    audit.record(
        session, actor=actor, action="expert.resumed", entity="expert", entity_id=expert.id, at=now
    )


async def load_profile(session: AsyncSession, expert_id: int) -> Expert:
    """One expert with everything their profile shows, loaded up front (async sessions
    cannot load lazily while a page is rendered)."""
    expert = await session.scalar(
        select(Expert)
        .where(Expert.id == expert_id)
        .options(
            selectinload(Expert.link_worker).selectinload(Staff.cover),
            selectinload(Expert.consents).selectinload(ChannelConsent.confirmed_by),
            selectinload(Expert.contact_points),
            selectinload(Expert.windows),
        )
        .execution_options(populate_existing=True)
    )
    if expert is None:
        raise ExpertError(f"no expert {expert_id}")
    return expert


async def list_experts(session: AsyncSession, where: ColumnElement[bool]) -> list[Expert]:
    """The experts a WHERE clause allows (a viewer's scope), by reference then id."""
    rows = await session.scalars(
        select(Expert)
        .where(where)
        .order_by(Expert.ref.is_(None), Expert.ref, Expert.id)
        .options(selectinload(Expert.link_worker))
    )
    return list(rows)


def status_words(expert: Expert, now: datetime) -> str:
    """What a link worker needs to know first: held, paused (until when), or active."""
    if expert.status is ExpertStatus.WITHDRAWN:
        return "withdrawn"
    if expert.held_since is not None:
        return "held after a worrying reply"
    if expert.status is ExpertStatus.PAUSED:
        return "paused until they get in touch"
    if is_paused(expert, now) and expert.paused_until is not None:
        return f"paused until {expert.paused_until:%-d %B %Y}"
    return "active"


def safe_contact_due(expert: Expert, now: datetime) -> bool:
    """Never gone through with them, or not for three months: time to ask again."""
    confirmed = expert.safe_contact_confirmed_at
    return confirmed is None or now - confirmed > SAFE_CONTACT_RECHECK


async def safe_contact_confirmer(session: AsyncSession, expert: Expert) -> Staff | None:
    """Who last went through the safe-contact profile with them, if anyone has."""
    if expert.safe_contact_confirmed_by_id is None:
        return None
    return await session.get(Staff, expert.safe_contact_confirmed_by_id)


async def confirm_safe_contact(
    session: AsyncSession, expert: Expert, staff: Staff, *, now: datetime, actor: str
) -> None:
    """A person went through the safe-contact profile with them again today."""
    first = expert.safe_contact_confirmed_at is None
    expert.safe_contact_confirmed_at = now
    expert.safe_contact_confirmed_by_id = staff.id
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.safe_contact_confirmed",
        entity="expert",
        entity_id=expert.id,
        at=now,
        by_staff=staff.id,
    )
    if first:
        await queue_summary(session, expert, now)  # "how we'll contact you", now it is agreed


async def update_details(
    session: AsyncSession, expert: Expert, details: ExpertDetails, *, now: datetime, actor: str
) -> list[str]:
    """Change the "about them" fields; returns the names of those that changed (the audit
    trail keeps the names, never the values)."""
    if details.ref and details.ref != expert.ref:
        taken = await session.scalar(
            select(Expert.id).where(Expert.ref == details.ref, Expert.id != expert.id)
        )
        if taken is not None:
            raise ExpertError(
                f"an expert with ref {details.ref!r} already exists",
                field="ref",
                plain="Another expert already has this reference: choose a different one",
            )
    wanted = {
        "ref": details.ref,
        "preferred_name": details.preferred_name,
        "time_zone": details.time_zone,
        "language": details.language,
        "access_needs": [n.value for n in details.access_needs],
        "discreet": details.discreet,
    }
    changed = [name for name, value in wanted.items() if getattr(expert, name) != value]
    for name in changed:
        setattr(expert, name, wanted[name])
    if changed:
        expert.updated_at = now
        audit.record(
            session,
            actor=actor,
            action="expert.details_changed",
            entity="expert",
            entity_id=expert.id,
            at=now,
            fields=changed,
        )
    return changed


async def link_worker_choices(session: AsyncSession, scope: Scope) -> list[Staff]:
    """Who a new expert may be given to: anyone active for an administrator; for a link
    worker, themselves or a colleague they cover while away (the experts they may see)."""
    query = select(Staff).where(Staff.active.is_(True)).order_by(Staff.name, Staff.id)
    if scope.worker_ids is not None:
        query = query.where(Staff.id.in_(scope.worker_ids))
    return list(await session.scalars(query))
