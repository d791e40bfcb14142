"""One-time codes that link an expert's Telegram chat to them.

A link worker makes a code (``create_link``) and gives the expert the t.me link, in
person or by a route the expert chose. When the expert taps it, Telegram sends
``/start <code>`` from their chat and the inbound pipeline calls ``redeem``. That is the
only way a chat id becomes someone's contact point, so nobody has to read a chat id off a
phone, and a chat never reaches an expert's record by guesswork.

Why it is built this way:

- Only a keyed hash of the code is stored (``cipher.blind_index``), so reading the table
  (or a backup) gives nobody a way into someone's chat.
- 24 random bytes (192 bits) from ``secrets``: a code cannot be guessed, and on top of
  that a chat with 5 refused tries in 24 hours is not even answered.
- A code works once and expires (``LINKLINE_TELEGRAM_LINK_HOURS``). A new code withdraws
  the expert's earlier unused ones: they are deleted, so a forgotten link lying in an old
  message cannot be used later, and the hash of a withdrawn code is not kept either.
- A chat already linked to someone else is never moved silently (``CHAT_TAKEN``): two
  people sharing a phone, or a link passed on, is for a person to sort out.

Linking is not consent. Telegram is used only once a person has recorded, with the
expert, that it is safe for them (R-1.13: Telegram can be logged in on several devices
and can show the bot's messages on a lock screen). A linked chat without that consent is
never written to.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.services.experts.profile import ExpertError
from bot.services.staff.accounts import find_staff
from scheduling.clock import local_today
from scheduling.rules.cover import responsible_staff
from store import audit
from store.crypto import Cipher
from store.enums import Channel, ExpertStatus
from store.models import ChannelConsent, ContactPoint, Expert, Reply, Staff, TelegramLink

CODE_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters of A-Za-z0-9_-
# Telegram's deep-link ``start`` parameter: 1 to 64 of these characters.
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_REFUSED_TRIES = 5  # refused link tries from one chat in TRIES_WINDOW before it is ignored
TRIES_WINDOW = timedelta(hours=24)
REFUSED_INTENT = "link_refused"  # what the inbound pipeline stores on each refused try
REDEEM_ACTOR = "expert (by Telegram)"


@dataclass(frozen=True)
class LinkCode:
    """A fresh code, shown once to the link worker: only its hash is stored."""

    code: str = field(repr=False)  # a key to someone's chat: never logged
    expires_at: datetime

    def link(self, username: str | None) -> str | None:
        """The t.me link that opens the bot and sends ``/start <code>``; None without the
        bot's username (then the expert sends ``start_command`` to the bot themselves)."""
        if not username:
            return None
        return f"https://t.me/{username.strip().removeprefix('@')}?start={self.code}"

    @property
    def start_command(self) -> str:
        """What to send the bot when there is no link to tap."""
        return f"/start {self.code}"


class LinkOutcome(StrEnum):
    LINKED = "linked"  # the chat is now the expert's Telegram contact point
    UNKNOWN = "unknown"  # no such code (never made, mistyped, or withdrawn by a newer one)
    EXPIRED = "expired"
    USED = "used"  # already used, by another chat
    TOO_MANY_TRIES = "too_many_tries"  # this chat had too many refused tries lately
    CHAT_TAKEN = "chat_taken"  # this chat is already another expert's: not moved


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    expert: Expert | None = None  # set when LINKED


async def create_link(
    session: AsyncSession,
    expert: Expert,
    created_by: Staff,
    *,
    cipher: Cipher,
    now: datetime,
    hours: int,
    actor: str | None = None,
) -> LinkCode:
    """Make a one-time code for ``expert``, valid for ``hours``; earlier unused codes for
    them stop working (deleted). ``actor`` names who did it in the audit trail (default:
    the staff member)."""
    if hours < 1:
        raise ValueError("a link code must work for at least an hour")
    if expert.status is ExpertStatus.WITHDRAWN:
        raise ExpertError(
            f"expert {expert.ref or expert.id} has withdrawn, so their Telegram is not linked"
        )
    withdrawn = await session.execute(
        delete(TelegramLink).where(
            TelegramLink.expert_id == expert.id, TelegramLink.used_at.is_(None)
        )
    )
    code = secrets.token_urlsafe(CODE_BYTES)
    expires_at = now + timedelta(hours=hours)
    link = TelegramLink(
        expert_id=expert.id,
        code_hash=cipher.blind_index(code),
        created_by_id=created_by.id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(link)
    await session.flush()
    audit.record(
        session,
        actor=actor or f"staff {created_by.id}",
        action="telegram.link_created",
        entity="expert",
        entity_id=expert.id,
        at=now,
        by_staff=created_by.id,
        link_id=link.id,
        hours=hours,
        withdrew=getattr(withdrawn, "rowcount", 0) or 0,
    )
    return LinkCode(code=code, expires_at=expires_at)


@dataclass(frozen=True)
class GivenLink:
    """A new code, and what the person giving it must tell the expert about it."""

    code: LinkCode
    consented: bool  # Telegram consent is recorded: messages may go there once linked
    replaces_chat: bool  # a chat is on file already, and is replaced when they use the code


async def give_link(
    session: AsyncSession,
    expert: Expert,
    given_by: Staff | None,
    *,
    cipher: Cipher,
    now: datetime,
    hours: int,
    actor: str | None = None,
) -> GivenLink:
    """Make a code for someone to hand over: ``given_by``, or by default their link worker
    (their cover while the worker is away, on the expert's own calendar)."""
    giver = given_by
    if giver is None:
        worker = await find_staff(session, str(expert.link_worker_id))
        if worker is None:
            raise ExpertError(f"expert {expert.ref or expert.id} has no link worker")
        giver = responsible_staff(worker, local_today(now, expert.time_zone))
    code = await create_link(
        session, expert, giver, cipher=cipher, now=now, hours=hours, actor=actor
    )
    consented = await session.scalar(
        select(ChannelConsent.id).where(
            ChannelConsent.expert_id == expert.id,
            ChannelConsent.channel == Channel.TELEGRAM,
            ChannelConsent.allowed.is_(True),
        )
    )
    chat = await _telegram_point(session, expert.id)
    return GivenLink(code, consented is not None, chat is not None)


async def redeem(
    session: AsyncSession, *, cipher: Cipher, chat_id: str, code: str, now: datetime
) -> LinkResult:
    """A chat sent ``/start <code>``: link it to the code's expert, or say why not.

    Runs in the caller's transaction. On LINKED the expert's Telegram contact point is
    created or replaced (verified now, any opt-out cleared: they just wrote to us) and
    the code is spent. A used code sent again from the chat it linked is LINKED again,
    changing nothing: a second tap should not read as a failure. This does not record
    consent to use Telegram: a person does that with the expert (R-1.13).
    """
    chat_hash = cipher.blind_index(chat_id.strip())
    if await refused_tries(session, chat_hash, now) >= MAX_REFUSED_TRIES:
        return LinkResult(LinkOutcome.TOO_MANY_TRIES)  # not even looked up
    code = code.strip()
    if not _START_PARAMETER.fullmatch(code):
        return LinkResult(LinkOutcome.UNKNOWN)
    link = await session.scalar(
        select(TelegramLink)
        .where(TelegramLink.code_hash == cipher.blind_index(code))
        .options(joinedload(TelegramLink.expert))
    )
    if link is None:
        return LinkResult(LinkOutcome.UNKNOWN)
    current = await _telegram_point(session, link.expert_id)
    if link.used_at is not None:
        if current is not None and current.lookup_hash == chat_hash:
            return LinkResult(LinkOutcome.LINKED, link.expert)
        return LinkResult(LinkOutcome.USED)
    if now >= link.expires_at:
        return LinkResult(LinkOutcome.EXPIRED)
    taken_by = await session.scalar(
        select(ContactPoint.expert_id).where(
            ContactPoint.channel == Channel.TELEGRAM,
            ContactPoint.lookup_hash == chat_hash,
            ContactPoint.expert_id != link.expert_id,
        )
    )
    if taken_by is not None:
        audit.record(
            session,
            actor=REDEEM_ACTOR,
            action="telegram.link_refused",
            entity="expert",
            entity_id=link.expert_id,
            at=now,
            reason="chat already linked to another expert",
            other_expert=taken_by,
            link_id=link.id,
        )
        return LinkResult(LinkOutcome.CHAT_TAKEN)
    # Spend the code first, conditionally: of two chats racing with one code, one wins.
    spent = await session.execute(
        update(TelegramLink)
        .where(TelegramLink.id == link.id, TelegramLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        return LinkResult(LinkOutcome.USED)
    link.used_at = now
    replaced = current is not None and current.lookup_hash != chat_hash
    if current is None:
        current = ContactPoint(expert_id=link.expert_id, channel=Channel.TELEGRAM, value="")
        session.add(current)
    current.value = chat_id.strip()
    current.lookup_hash = chat_hash
    current.verified_at = now
    current.opted_out_at = None
    current.opt_out_reason = None
    await session.flush()
    audit.record(
        session,
        actor=REDEEM_ACTOR,
        action="telegram.linked",
        entity="expert",
        entity_id=link.expert_id,
        at=now,
        link_id=link.id,
        replaced_chat=replaced,
    )
    return LinkResult(LinkOutcome.LINKED, link.expert)


async def refused_tries(session: AsyncSession, chat_hash: str, now: datetime) -> int:
    """Refused link tries from this chat (by keyed hash) in the last 24 hours."""
    count = await session.scalar(
        select(func.count(Reply.id)).where(
            Reply.sender_hash == chat_hash,
            Reply.channel == Channel.TELEGRAM,
            Reply.intent == REFUSED_INTENT,
            Reply.received_at > now - TRIES_WINDOW,
        )
    )
    return int(count or 0)


async def _telegram_point(session: AsyncSession, expert_id: int) -> ContactPoint | None:
    return await session.scalar(
        select(ContactPoint).where(
            ContactPoint.expert_id == expert_id, ContactPoint.channel == Channel.TELEGRAM
        )
    )
