"""Adding experts: contact details encrypted, lookups by keyed hash, consent recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.expert_input import ExpertInput
from bot.services.staff import find_staff
from scheduling.tasks import local_today
from store import audit
from store.crypto import Cipher
from store.enums import Channel, ExpertStatus
from store.models import ChannelConsent, ContactPoint, ContactWindow, Expert, Staff

# Channels whose contact value can arrive inbound and must be matched without decrypting.
_INDEXED = (Channel.SMS, Channel.PHONE, Channel.TELEGRAM, Channel.EMAIL)


class ExpertError(ValueError):
    pass


async def create_expert(
    session: AsyncSession, cipher: Cipher, data: ExpertInput, *, actor: str, now: datetime
) -> Expert:
    worker = await find_staff(session, data.link_worker)
    if worker is None:
        raise ExpertError(f"no staff member with email {data.link_worker!r}")
    if data.ref and await session.scalar(select(Expert.id).where(Expert.ref == data.ref)):
        raise ExpertError(f"an expert with ref {data.ref!r} already exists")
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
    for channel, consent in data.consent.items():
        if consent.allowed and confirmer and data.consent_confirmed_on:
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


def _who(expert: Expert) -> str:
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
        raise ExpertError(f"expert {_who(expert)} has withdrawn, so there is nothing to pause")
    today = local_today(now, expert.time_zone)
    if until is not None and until <= today:
        raise ExpertError(
            f"the pause must end after today ({today.isoformat()}): give a later date, or "
            "leave out --until to pause until they get in touch"
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
        raise ExpertError(f"expert {_who(expert)} has withdrawn, not paused")
    if expert.status is ExpertStatus.ACTIVE and expert.paused_until is None:
        raise ExpertError(f"expert {_who(expert)} is not paused")
    expert.status = ExpertStatus.ACTIVE
    expert.paused_until = None
    expert.resumed_at = expert.updated_at = now
    audit.record(
        session, actor=actor, action="expert.resumed", entity="expert", entity_id=expert.id, at=now
    )


async def set_consent(
    session: AsyncSession,
    expert: Expert,
    channel: Channel,
    *,
    allowed: bool,
    details_safe: bool,
    confirmed_by: Staff,
    confirmed_on: date,
    now: datetime,
    actor: str,
) -> None:
    """Record what a named person confirmed with the expert about one channel.

    Allowing needs a way to reach them there first (for Telegram, a linked chat), so a
    consent never points at nothing. Withdrawing always works, at once.
    """
    await session.refresh(expert, ["consents", "contact_points"])
    if (
        allowed
        and channel not in (Channel.PHONE,)
        and not any(p.channel is channel and p.usable for p in expert.contact_points)
    ):
        hint = (
            f"link their chat first: `linkline experts telegram-link {_who(expert)}`"
            if channel is Channel.TELEGRAM
            else f"add a {channel.value} contact for them first"
        )
        raise ExpertError(f"expert {_who(expert)} has no usable {channel.value} contact: {hint}")
    current = next((c for c in expert.consents if c.channel is channel), None)
    if not allowed:
        if current is not None:
            expert.consents.remove(current)
    elif current is None:
        expert.consents.append(
            ChannelConsent(
                channel=channel,
                allowed=True,
                details_safe=details_safe,
                confirmed_on=confirmed_on,
                confirmed_by_id=confirmed_by.id,
            )
        )
    else:
        current.allowed, current.details_safe = True, details_safe
        current.confirmed_on, current.confirmed_by_id = confirmed_on, confirmed_by.id
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.consent_set",
        entity="expert",
        entity_id=expert.id,
        at=now,
        channel=channel.value,
        allowed=allowed,
        details_safe=details_safe,
        confirmed_by=confirmed_by.id,
    )


async def set_channels(
    session: AsyncSession,
    expert: Expert,
    preferred: Channel,
    fallbacks: list[Channel],
    *,
    now: datetime,
    actor: str,
) -> None:
    """Which channel to try first, then which others, as the expert chose."""
    await session.refresh(expert, ["consents"])
    allowed = {c.channel for c in expert.consents if c.allowed}
    missing = [c.value for c in [preferred, *fallbacks] if c not in allowed]
    if missing:
        raise ExpertError(
            f"no consent is recorded for {', '.join(missing)}: record it first with "
            f"`linkline experts consent {_who(expert)} CHANNEL allow --by EMAIL`"
        )
    expert.preferred_channel = preferred
    expert.fallback_channels = [c.value for c in dict.fromkeys(fallbacks) if c is not preferred]
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.channels_set",
        entity="expert",
        entity_id=expert.id,
        at=now,
        preferred=preferred.value,
    )
