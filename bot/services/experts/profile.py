"""Adding experts: contact details encrypted, lookups by keyed hash, consent recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.experts.details import (
    CHANNEL_ADDRESS,
    CHANNEL_WORDS,
    ExpertDetails,
    ExpertInput,
    WindowInput,
)
from bot.services.staff.access import Scope
from bot.services.staff.accounts import find_staff
from scheduling.clock import local_today
from scheduling.rules.windows import WindowError
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
) -> Expert:
    """Add one expert. ``safe_contact_confirmed_by``: the person who just went through the
    safe-contact profile with them (a form filled in with the expert), so it counts from now.
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


def _either(channels: list[str]) -> str:
    return " or ".join(CHANNEL_WORDS[Channel(c)] for c in channels)


def _reachable(expert: Expert, channel: Channel) -> bool:
    """A phone call needs a number on file; every other channel a usable contact point."""
    if channel is Channel.PHONE:
        return any(
            p.channel in (Channel.PHONE, Channel.SMS) and p.opted_out_at is None
            for p in expert.contact_points
        )
    return any(p.channel is channel and p.usable for p in expert.contact_points)


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
        raise ExpertError(
            f"expert {_who(expert)} has withdrawn, so there is nothing to pause",
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
            f"expert {_who(expert)} has withdrawn, not paused",
            plain="They have withdrawn, so contact cannot start again from here",
        )
    if expert.status is ExpertStatus.ACTIVE and expert.paused_until is None:
        raise ExpertError(f"expert {_who(expert)} is not paused", plain="They are not paused")
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
        raise ExpertError(
            f"expert {_who(expert)} has no usable {channel.value} contact: {hint}",
            field=f"consent_{channel.value}",
            plain=(
                "Their Telegram chat is not linked yet: make a Telegram link for them first"
                if channel is Channel.TELEGRAM
                else f"There is no {CHANNEL_ADDRESS[channel]} for them that we can use yet: "
                "add one first"
            ),
        )
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
    await session.refresh(expert, ["consents", "contact_points"])
    allowed = {c.channel for c in expert.consents if c.allowed}
    missing = [c.value for c in [preferred, *fallbacks] if c not in allowed]
    if missing:
        raise ExpertError(
            f"no consent is recorded for {', '.join(missing)}: record it first with "
            f"`linkline experts consent {_who(expert)} CHANNEL allow --by EMAIL`",
            field="preferred_channel" if preferred.value in missing else "fallback_channels",
            plain=f"No consent is recorded for {_either(missing)} yet: record their consent first",
        )
    unreachable = [c for c in [preferred, *fallbacks] if not _reachable(expert, c)]
    if unreachable:
        first = unreachable[0]
        raise ExpertError(
            f"expert {_who(expert)} has no usable {first.value} contact: add one first",
            field="preferred_channel" if first is preferred else "fallback_channels",
            plain=f"There is no {CHANNEL_ADDRESS[first]} for them that we can use: "
            "add one first, or choose another way",
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


async def confirm_safe_contact(
    session: AsyncSession, expert: Expert, staff: Staff, *, now: datetime, actor: str
) -> None:
    """A person went through the safe-contact profile with them again today."""
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


async def add_window(
    session: AsyncSession, expert: Expert, window: WindowInput, *, now: datetime, actor: str
) -> ContactWindow:
    """Add one safe-contact window (checked by the same parser the dispatcher uses)."""
    try:
        parsed = window.parsed()
    except WindowError as exc:
        raise ExpertError(str(exc), field="window_from") from None
    await session.refresh(expert, ["windows"])
    added = ContactWindow(
        channel=window.channel, days=window.days, start=parsed.start, end=parsed.end
    )
    expert.windows.append(added)
    expert.updated_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="expert.window_added",
        entity="expert",
        entity_id=expert.id,
        at=now,
        window=added.id,
    )
    return added


async def remove_window(
    session: AsyncSession, expert: Expert, window_id: int, *, now: datetime, actor: str
) -> None:
    """Remove one of their windows; with none left, the default safe hours apply."""
    await session.refresh(expert, ["windows"])
    window = next((w for w in expert.windows if w.id == window_id), None)
    if window is None:
        raise ExpertError(
            f"expert {_who(expert)} has no safe window {window_id}",
            plain="That safe time has already been removed",
        )
    expert.windows.remove(window)
    expert.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="expert.window_removed",
        entity="expert",
        entity_id=expert.id,
        at=now,
        window=window_id,
    )


async def link_worker_choices(session: AsyncSession, scope: Scope) -> list[Staff]:
    """Who a new expert may be given to: anyone active for an administrator; for a link
    worker, themselves or a colleague they cover while away (the experts they may see)."""
    query = select(Staff).where(Staff.active.is_(True)).order_by(Staff.name, Staff.id)
    if scope.worker_ids is not None:
        query = query.where(Staff.id.in_(scope.worker_ids))
    return list(await session.scalars(query))


async def record_consents(
    session: AsyncSession,
    expert: Expert,
    wanted: dict[Channel, bool],
    *,
    confirmed_by: Staff,
    confirmed_on: date,
    now: datetime,
    actor: str,
) -> list[Channel]:
    """Bring every channel's consent in line with what they said: ``wanted`` maps each
    channel they agree to onto whether full details may go there; the others are withdrawn.

    Only channels that change are recorded, so who confirmed each one, and when, stays
    true. Returns the channels that changed; raises ExpertError (``field`` consent_<channel>)
    for a channel that cannot be allowed yet.
    """
    await session.refresh(expert, ["consents"])
    current = {c.channel: c.details_safe for c in expert.consents if c.allowed}
    changed = []
    for channel in Channel:
        if current.get(channel) == wanted.get(channel):
            continue
        await set_consent(
            session,
            expert,
            channel,
            allowed=channel in wanted,
            details_safe=wanted.get(channel, False),
            confirmed_by=confirmed_by,
            confirmed_on=confirmed_on,
            now=now,
            actor=actor,
        )
        changed.append(channel)
    return changed
