"""New contact details: two people for a phone number, email or postal address, and a
flag when two experts share one.

Changing someone's number or email is how a person who means them harm can take over
their messages, and a letter to a new address can land in the wrong home. So a new phone
number (used for texts and calls), email address or postal address waits as a
``ContactChange`` until a *different* member of staff confirms it; until then the old
value stays in use. Telegram only ever changes through the expert's own one-time link
(``telegram_links``).

Two experts with the same number or email (the same keyed hash) is allowed, since people
share phones, but it is flagged wherever staff look, because a reply from it could be
either of them and a message to it can be read by both.

Values are encrypted by their column types; the audit trail records ids and channels,
never a number or an address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from bot.services.contact_details import (
    normalise_address,
    normalise_email,
    normalise_phone,
    phone_for_people,
)
from store import audit
from store.crypto import Cipher
from store.enums import ChangeStatus, Channel
from store.errors import Refused
from store.models import ContactChange, ContactPoint, Expert, Staff

PHONE_CHANNELS = (Channel.SMS, Channel.PHONE)  # one number, used by both
# Where the same value means the same person can be reached (and can reply) as another.
SHARED_CHANNELS = (Channel.SMS, Channel.PHONE, Channel.EMAIL)
# A change request's channel: SMS stands for the phone number (texts and calls).
KIND_WORDS = {
    Channel.SMS: "phone number",
    Channel.EMAIL: "email address",
    Channel.LETTER: "postal address",
}
_FIELD = {Channel.SMS: "phone", Channel.LETTER: "postal_address", Channel.EMAIL: "email"}


class ContactChangeError(Refused):
    """A change the rules refuse, in words for a person; ``field`` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Requested:
    change: ContactChange
    shared_with: list[int]  # other experts who already have this number


def change_kind(channel: Channel) -> Channel:
    """The channel a change request is stored under: SMS for any phone number."""
    if channel in PHONE_CHANNELS:
        return Channel.SMS
    if channel in (Channel.LETTER, Channel.EMAIL):
        return channel
    raise ContactChangeError(
        "Only a phone number, email address or postal address can be changed here"
    )


def current_value(expert: Expert, channel: Channel) -> str | None:
    """What is in use now for a channel (the phone number for SMS or phone)."""
    wanted = PHONE_CHANNELS if channel in PHONE_CHANNELS else (channel,)
    points = {p.channel: p for p in expert.contact_points if p.channel in wanted}
    for kind in wanted:
        if kind in points:
            return points[kind].value
    return None


def shown(channel: Channel, value: str | None) -> str:
    """A value as staff write it: UK numbers as 07123 456789, addresses on one line."""
    if not value:
        return ""
    if channel in PHONE_CHANNELS:
        return phone_for_people(value)
    if channel is Channel.LETTER:
        return ", ".join(value.splitlines())
    return value


async def others_with(
    session: AsyncSession,
    cipher: Cipher,
    value: str,
    *,
    besides: int,
    within: ColumnElement[bool] | None = None,
) -> list[int]:
    """Other experts whose phone number or email is this (normalised) value; ``within``
    (a WHERE clause on Expert) keeps to the experts someone may see."""
    query = (
        select(ContactPoint.expert_id)
        .where(
            ContactPoint.lookup_hash == cipher.blind_index(value),
            ContactPoint.channel.in_(SHARED_CHANNELS),
            ContactPoint.expert_id != besides,
        )
        .distinct()
        .order_by(ContactPoint.expert_id)
    )
    if within is not None:
        query = query.join(Expert, Expert.id == ContactPoint.expert_id).where(within)
    return list(await session.scalars(query))


async def shared_contacts(
    session: AsyncSession,
    expert_ids: Iterable[int] | None = None,
    *,
    within: ColumnElement[bool] | None = None,
) -> dict[int, set[int]]:
    """For each expert (or the ones named), the other experts with the same number or email;
    ``within`` (a WHERE clause on Expert) keeps to the others someone may see."""
    mine, theirs = aliased(ContactPoint), aliased(ContactPoint)
    query = (
        select(mine.expert_id, theirs.expert_id)
        .join(
            theirs,
            and_(theirs.lookup_hash == mine.lookup_hash, theirs.expert_id != mine.expert_id),
        )
        .where(
            mine.lookup_hash.is_not(None),
            mine.channel.in_(SHARED_CHANNELS),
            theirs.channel.in_(SHARED_CHANNELS),
        )
        .distinct()
    )
    if expert_ids is not None:
        query = query.where(mine.expert_id.in_(list(expert_ids)))
    if within is not None:
        query = query.join(Expert, Expert.id == theirs.expert_id).where(within)
    found: dict[int, set[int]] = defaultdict(set)
    for expert_id, other_id in await session.execute(query):
        found[expert_id].add(other_id)
    return dict(found)


def _normalised(kind: Channel, text: str) -> str:
    field = _FIELD[kind]
    if not text.strip():
        raise ContactChangeError(f"Enter the new {KIND_WORDS[kind]}", field=field)
    try:
        if kind is Channel.SMS:
            return normalise_phone(text)
        if kind is Channel.LETTER:
            return normalise_address(text)
        return normalise_email(text)
    except ValueError:
        message = {
            Channel.SMS: "Enter a phone number in the correct format, like 07123 456789",
            Channel.LETTER: "Enter the address on at least two lines, ending with the postcode",
            Channel.EMAIL: "Enter an email address in the correct format, like name@example.org",
        }[kind]
        raise ContactChangeError(message, field=field) from None


async def request_change(
    session: AsyncSession,
    cipher: Cipher,
    expert: Expert,
    requester: Staff,
    *,
    channel: Channel,
    text: str,
    now: datetime,
    actor: str,
    old_address_safe: bool = False,
) -> Requested:
    """Ask for a new phone number, email or postal address; nothing changes until someone
    else confirms it. One request per expert and kind waits at a time.

    While a new postal address waits, letters are held (the old address may be the home
    they left), unless the requester records ``old_address_safe``."""
    kind = change_kind(channel)
    value = _normalised(kind, text)
    await session.refresh(expert, ["contact_points"])
    what = KIND_WORDS[kind]
    if current_value(expert, kind) == value:
        raise ContactChangeError(f"This is already their {what}", field=_FIELD[kind])
    waiting = await session.scalar(
        select(ContactChange.id).where(
            ContactChange.expert_id == expert.id,
            ContactChange.channel == kind,
            ContactChange.status == ChangeStatus.PENDING,
        )
    )
    if waiting is not None:
        raise ContactChangeError(
            f"A new {what} for them is already waiting for a second person. Ask a colleague "
            "to confirm or reject it, or withdraw it from their page, before asking again",
            field=_FIELD[kind],
        )
    change = ContactChange(
        expert_id=expert.id,
        channel=kind,
        value=value,
        status=ChangeStatus.PENDING,
        requested_by_id=requester.id,
        requested_at=now,
        old_address_safe=old_address_safe and kind is Channel.LETTER,
    )
    session.add(change)
    await session.flush()
    shared = (
        await others_with(session, cipher, value, besides=expert.id)
        if kind in SHARED_CHANNELS
        else []
    )
    audit.record(
        session,
        actor=actor,
        action="contact.change_requested",
        entity="expert",
        entity_id=expert.id,
        at=now,
        change=change.id,
        channel=kind.value,
        shared=bool(shared),
        old_address_safe=change.old_address_safe,
    )
    return Requested(change, shared)


def _put(expert: Expert, channel: Channel, value: str, lookup: str | None, now: datetime) -> None:
    """Create or replace one contact point: confirmed with them now, any opt-out cleared."""
    point = next((p for p in expert.contact_points if p.channel is channel), None)
    if point is None:
        point = ContactPoint(channel=channel, value=value)
        expert.contact_points.append(point)
    point.value, point.lookup_hash = value, lookup
    point.verified_at = now
    point.opted_out_at = None
    point.opt_out_reason = None


# What a list of changes shows: the expert (and what is in use now) and who asked.
_WITH_PEOPLE = (
    selectinload(ContactChange.expert).selectinload(Expert.contact_points),
    selectinload(ContactChange.requested_by),
)


async def changes_to_confirm(
    session: AsyncSession, experts: ColumnElement[bool], viewer: Staff
) -> list[ContactChange]:
    """Waiting changes for the experts a WHERE clause allows, asked for by someone else."""
    rows = await session.scalars(
        select(ContactChange)
        .join(Expert, Expert.id == ContactChange.expert_id)
        .where(
            ContactChange.status == ChangeStatus.PENDING,
            ContactChange.requested_by_id != viewer.id,
            experts,
        )
        .order_by(ContactChange.requested_at, ContactChange.id)
        .options(*_WITH_PEOPLE)
    )
    return list(rows)


async def waiting_changes(session: AsyncSession, expert_id: int) -> list[ContactChange]:
    """One expert's changes still waiting for a second person."""
    rows = await session.scalars(
        select(ContactChange)
        .where(ContactChange.expert_id == expert_id, ContactChange.status == ChangeStatus.PENDING)
        .order_by(ContactChange.requested_at, ContactChange.id)
        .options(selectinload(ContactChange.requested_by))
    )
    return list(rows)


async def change_in_scope(
    session: AsyncSession, experts: ColumnElement[bool], change_id: int
) -> ContactChange | None:
    """A change, if its expert is one the WHERE clause allows (else None: "not found")."""
    return await session.scalar(
        select(ContactChange)
        .join(Expert, Expert.id == ContactChange.expert_id)
        .where(ContactChange.id == change_id, experts)
        .options(*_WITH_PEOPLE)
    )


async def _decide(
    session: AsyncSession, change: ContactChange, status: ChangeStatus, by: Staff, now: datetime
) -> None:
    """Move a waiting change on, conditionally: of two people deciding at once, one wins."""
    if change.status is not ChangeStatus.PENDING:
        raise ContactChangeError("Someone has already dealt with this change")
    moved = await session.execute(
        update(ContactChange)
        .where(ContactChange.id == change.id, ContactChange.status == ChangeStatus.PENDING)
        .values(status=status, decided_by_id=by.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise ContactChangeError("Someone has already dealt with this change")
    change.status, change.decided_by_id, change.decided_at = status, by.id, now


async def confirm_change(
    session: AsyncSession,
    cipher: Cipher,
    change: ContactChange,
    confirmer: Staff,
    *,
    now: datetime,
    actor: str,
) -> None:
    """A second person confirms: the new value is used from now on."""
    if change.requested_by_id == confirmer.id:
        raise ContactChangeError(
            "You asked for this change, so a colleague needs to confirm it. This keeps "
            "a new number, email or address safe from a mistake or a trick"
        )
    await _decide(session, change, ChangeStatus.CONFIRMED, confirmer, now)
    expert = await session.get(Expert, change.expert_id)
    assert expert is not None
    await session.refresh(expert, ["contact_points"])
    if change.channel is Channel.LETTER:
        _put(expert, Channel.LETTER, change.value, None, now)
    elif change.channel is Channel.EMAIL:
        # A new address clears an old opt-out (that was about the old address). Consent
        # to use email is separate and stays as it was recorded.
        _put(expert, Channel.EMAIL, change.value, cipher.blind_index(change.value), now)
    else:
        for channel in PHONE_CHANNELS:
            _put(expert, channel, change.value, cipher.blind_index(change.value), now)
    expert.updated_at = now
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="contact.change_confirmed",
        entity="expert",
        entity_id=change.expert_id,
        at=now,
        change=change.id,
        channel=change.channel.value,
        requested_by=change.requested_by_id,
    )


async def reject_change(
    session: AsyncSession, change: ContactChange, decider: Staff, *, now: datetime, actor: str
) -> None:
    """A colleague turns it down, or the person who asked withdraws it: nothing changes."""
    await _decide(session, change, ChangeStatus.REJECTED, decider, now)
    audit.record(
        session,
        actor=actor,
        action="contact.change_rejected",
        entity="expert",
        entity_id=change.expert_id,
        at=now,
        change=change.id,
        channel=change.channel.value,
        withdrawn=change.requested_by_id == decider.id,
    )
