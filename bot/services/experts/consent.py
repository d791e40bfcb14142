"""What an expert agreed to, channel by channel, and the order we try those channels.

Consent is recorded by a named person who went through it with the expert; a channel is
only put in their order once it is agreed and there is a way to reach them on it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.experts.introductions import queue_summary, queue_welcome
from bot.services.experts.profile import ExpertError, who
from scheduling.text.words import CHANNEL_ADDRESSES, in_sentence
from store import audit
from store.enums import Channel
from store.models import ChannelConsent, Expert, Staff


def _either(channels: list[str]) -> str:
    return " or ".join(in_sentence(Channel(c)) for c in channels)


def _reachable(expert: Expert, channel: Channel) -> bool:
    """A phone call needs a number on file; every other channel a usable contact point."""
    if channel is Channel.PHONE:
        return any(
            p.channel in (Channel.PHONE, Channel.SMS) and p.opted_out_at is None
            for p in expert.contact_points
        )
    return any(p.channel is channel and p.usable for p in expert.contact_points)


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
            f"link their chat first: `linkline experts telegram-link {who(expert)}`"
            if channel is Channel.TELEGRAM
            else f"add a {channel.value} contact for them first"
        )
        raise ExpertError(
            f"expert {who(expert)} has no usable {channel.value} contact: {hint}",
            field=f"consent_{channel.value}",
            plain=(
                "Their Telegram chat is not linked yet: make a Telegram link for them first"
                if channel is Channel.TELEGRAM
                else f"There is no {CHANNEL_ADDRESSES[channel]} for them that we can use yet: "
                "add one first"
            ),
        )
    current = next((c for c in expert.consents if c.channel is channel), None)
    first = allowed and not any(c.allowed for c in expert.consents)
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
    if first:
        await queue_welcome(session, expert, now)  # their first agreed way: once ever
    await queue_summary(session, expert, now)


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
            f"`linkline experts consent {who(expert)} CHANNEL allow --by EMAIL`",
            field="preferred_channel" if preferred.value in missing else "fallback_channels",
            plain=f"No consent is recorded for {_either(missing)} yet: record their consent first",
        )
    unreachable = [c for c in [preferred, *fallbacks] if not _reachable(expert, c)]
    if unreachable:
        first = unreachable[0]
        raise ExpertError(
            f"expert {who(expert)} has no usable {first.value} contact: add one first",
            field="preferred_channel" if first is preferred else "fallback_channels",
            plain=f"There is no {CHANNEL_ADDRESSES[first]} for them that we can use: "
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
    await queue_summary(session, expert, now)
