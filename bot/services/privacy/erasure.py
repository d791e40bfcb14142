"""Erasing an expert: everything about them goes, and the audit log keeps only a note of who
erased which id, and when (with any personal words scrubbed from older events about them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.privacy.audit_search import about_expert
from bot.services.privacy.retention import PrivacyError
from bot.services.privacy.subject_access import who
from store import audit
from store.enums import MessageStatus
from store.models import (
    AuditEvent,
    ChannelConsent,
    ContactChange,
    ContactPoint,
    ContactWindow,
    Expert,
    Invitation,
    Message,
    Reply,
    Task,
    TelegramLink,
)

# Keys that would hold personal data if anyone ever put it in an audit event's data.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "preferred_name",
        "phone",
        "email",
        "address",
        "value",
        "to",
        "sender",
        "body",
        "text",
        "note",
        "personal_note",
        "support_needs",
        "outcome",
        "details",
    }
)

_OWNED: tuple[tuple[str, Any], ...] = (
    ("tasks", Task),
    ("replies", Reply),
    ("messages", Message),
    ("invitations", Invitation),
    ("telegram_links", TelegramLink),
    ("contact_changes", ContactChange),
    ("safe_contact_windows", ContactWindow),
    ("consents", ChannelConsent),
    ("contact_points", ContactPoint),
)


@dataclass(frozen=True)
class ErasureSummary:
    """How many of each kind of record would go (or went), by name."""

    counts: dict[str, int]
    pending_messages: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def erasure_summary(session: AsyncSession, expert: Expert) -> ErasureSummary:
    counts = {}
    for name, model in _OWNED:
        counts[name] = int(
            await session.scalar(select(func.count()).where(model.expert_id == expert.id)) or 0
        )
    pending = await session.scalar(
        select(func.count(Message.id)).where(
            Message.expert_id == expert.id, Message.status == MessageStatus.PENDING
        )
    )
    return ErasureSummary(counts, int(pending or 0))


def confirmation_matches(expert: Expert, typed: str) -> bool:
    return typed.strip().casefold() == who(expert).casefold()


async def erase_expert(
    session: AsyncSession, expert: Expert, *, confirmation: str, now: datetime, actor: str
) -> ErasureSummary:
    """Delete an expert and everything about them; keep only an audit event saying who
    erased which id, when. Refused unless ``confirmation`` is their reference (or id)."""
    if not confirmation.strip():
        raise PrivacyError({"confirm": f"Type {who(expert)} to confirm"})
    if not confirmation_matches(expert, confirmation):
        raise PrivacyError(
            {"confirm": f"That does not match. Type {who(expert)} exactly to confirm"}
        )
    eid = expert.id
    summary = await erasure_summary(session, expert)
    # Nothing still waiting may go out, even to a worker that loaded it a moment ago.
    pending = await session.scalars(
        select(Message).where(Message.expert_id == eid, Message.status == MessageStatus.PENDING)
    )
    for message in pending:
        message.move(MessageStatus.CANCELLED, "the expert's record was erased", now)
    await session.flush()
    scrubbed = 0
    for event in await session.scalars(select(AuditEvent).where(about_expert(eid))):
        if PERSONAL_KEYS & set(event.data or {}):
            event.data = {k: v for k, v in event.data.items() if k not in PERSONAL_KEYS}
            scrubbed += 1
    await session.flush()
    for _, model in _OWNED:
        await session.execute(
            delete(model).where(model.expert_id == eid).execution_options(synchronize_session=False)
        )
    await session.execute(
        delete(Expert).where(Expert.id == eid).execution_options(synchronize_session=False)
    )
    session.expunge(expert)
    audit.record(
        session,
        actor=actor,
        action="expert.erased",
        entity="expert",
        entity_id=eid,
        at=now,
        pending_cancelled=summary.pending_messages,
        audit_events_cleaned=scrubbed,
        **summary.counts,
    )
    return summary
