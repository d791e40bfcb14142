"""The one gate every word to an expert passes, and the one place a channel's ``send`` is
called.

Scheduled messages come here from the dispatcher (``decide`` for the plan and route,
then ``check`` on the final words), immediate answers to a reply from the listening
rules, and anything staff type later. A refusal is never silent: it is written to the
audit trail with its reason in plain words, and the expert's page lists it
(``refusals_for``). ``tests/unit/test_only_the_gate_sends.py`` fails
the build if anything else calls a channel's ``send``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import (
    MessageChannel,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from scheduling.rules.decisions import Decision, Finish, Limits, decide
from scheduling.rules.discreet_words import BlockedWords
from scheduling.rules.gate import Kind, Outbound, Verdict, check, details_safe
from scheduling.text.words import in_sentence, label
from store import audit
from store.enums import Channel, MessageStatus, TaskKind
from store.models import AuditEvent, Expert, Message

log = logging.getLogger(__name__)

REFUSED = "gate.refused"

__all__ = [
    "Gate",
    "Kind",
    "Outbound",
    "Refusal",
    "Verdict",
    "check",
    "details_safe",
    "held_back",
    "record_refusal",
    "refusals_for",
]


class Gate:
    """The rules and the channels, built once; every expert-bound word goes through it."""

    def __init__(
        self, channels: Mapping[Channel, MessageChannel], blocked: BlockedWords | None = None
    ) -> None:
        self.channels = channels
        self.blocked = blocked if blocked is not None else BlockedWords.load()

    def decide(
        self, message: Message, limits: Limits, now: datetime, recent: Sequence[datetime] = ()
    ) -> Decision:
        """For a planned message: whether it may go now, and on which channel."""
        return decide(message, self.channels, limits, now, recent)

    def check(self, expert: Expert | None, out: Outbound, now: datetime) -> Verdict:
        """For the final words: consent, STOP, withdrawal, hold, safe times, discreet words."""
        return check(expert, out, self.blocked, now)

    async def send(self, outgoing: OutgoingMessage) -> Receipt | Exception:
        """The one call of a channel's ``send``; a failure comes back as the exception."""
        channel = self.channels[outgoing.channel]
        try:
            return await channel.send(outgoing)
        except (TransientError, PermanentError, OutcomeUnknown) as exc:
            return exc
        except Exception as exc:  # a bug or garbage from a provider must not stop the loop
            log.exception("channel %s raised unexpectedly", outgoing.channel)
            return exc


def record_refusal(
    session: AsyncSession,
    expert_id: int | None,
    out: Outbound,
    verdict: Verdict,
    now: datetime,
    *,
    message_id: int | None = None,
    reply_id: int | None = None,
) -> None:
    """Why something was held back, for staff: the rule and the word, never the text."""
    audit.record(
        session,
        actor="linkline",
        action=REFUSED,
        entity="expert",
        entity_id=expert_id,
        at=now,
        what=out.kind.value,
        channel=out.channel.value,
        reason=verdict.reason,
        message_id=message_id,
        reply_id=reply_id,
    )


def held_back(
    session: AsyncSession, message: Message, channel: Channel, verdict: Verdict, now: datetime
) -> Finish:
    """A planned message the gate refused on its final words: recorded, and a person
    decides what next (which word, never the text)."""
    out = Outbound(Kind.SCHEDULED, channel, "", purpose=message.purpose)
    record_refusal(session, message.expert_id, out, verdict, now, message_id=message.id)
    what = f"The message to {message.expert.preferred_name} ({label(message.purpose)})"
    fix = (
        " Change those words (your own line on a keeping-in-touch message, or the outcomes"
        " text) and send it again, or get in touch another way."
        if verdict.word
        else ""
    )
    return Finish(
        MessageStatus.HANDED_TO_PERSON,
        f"held back by the safety checks: {verdict.reason}",
        TaskKind.DELIVERY_PROBLEM,
        channel=channel,
        task_details=f"{what} was not sent by {in_sentence(channel)}: {verdict.reason}.{fix}",
    )


@dataclass(frozen=True)
class Refusal:
    """One held-back message as staff read it."""

    at: datetime
    sentence: str


async def refusals_for(session: AsyncSession, expert_id: int, limit: int = 10) -> list[Refusal]:
    """The latest things the gate held back from this person, newest first."""
    events = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == REFUSED,
            AuditEvent.entity == "expert",
            AuditEvent.entity_id == expert_id,
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [Refusal(event.at, _sentence(event.data)) for event in events]


def _sentence(data: dict[str, object]) -> str:
    what = str(data.get("what") or "a message")
    try:
        by = f" by {in_sentence(Channel(str(data.get('channel'))))}"
    except ValueError:
        by = ""
    reason = str(data.get("reason") or "no reason was recorded")
    return f"{what[:1].upper()}{what[1:]}{by} was not sent: {reason}."
