"""Adding experts: contact details encrypted, lookups by keyed hash, consent recorded."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.expert_input import ExpertInput
from bot.services.staff import find_staff
from store import audit
from store.crypto import Cipher
from store.enums import Channel
from store.models import ChannelConsent, ContactPoint, ContactWindow, Expert

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
