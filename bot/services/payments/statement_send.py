"""Sending a yearly statement to the person it is about, through the one gate.

The statement lists amounts and what each was for, so it goes only by email (with the
statement as a PDF) or by letter, and only on a channel agreed safe for details; the
dispatcher's routing holds to the same rule when it sends. Where there is no such channel,
nothing is queued and their link worker gets a task saying so, in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.payments.statement import yearly_statement
from scheduling.people.tasks import open_task
from scheduling.rules.payments import pounds
from scheduling.rules.promises import details_channels
from scheduling.text.words import in_sentence
from store import audit
from store.enums import ExpertStatus, MessageStatus, Purpose, TaskKind
from store.errors import Refused
from store.models import Expert, Message


class StatementError(Refused):
    """A statement that cannot be sent; the message says why, for a person."""


@dataclass(frozen=True)
class Sent:
    queued: bool  # False: no safe way to send it, and a task says so
    sentence: str  # what happened, for the member of staff who asked


async def send_statement(
    session: AsyncSession, expert: Expert, year: int, *, now: datetime, actor: str
) -> Sent:
    made = await yearly_statement(session, expert, year)  # refuses an impossible year
    if expert.status is ExpertStatus.WITHDRAWN:
        raise StatementError(
            f"{expert.preferred_name} has left, so nothing more is sent: print the statement "
            "and give it to them another way if they ask for it"
        )
    await session.refresh(expert, ["consents", "contact_points"])
    channels = details_channels(expert)
    if not channels:
        await open_task(
            session,
            kind=TaskKind.DELIVERY_PROBLEM,
            title=f"Give {expert.preferred_name} their statement for {year}",
            details=(
                f"{expert.preferred_name} has no email or postal address agreed as safe for "
                f"details, and their statement lists what we paid them and what for. Ask them "
                "how they would like it, or print it from their payments page and hand it over."
            ),
            now=now,
            assignee=expert.link_worker,
            expert=expert,
            dedupe_key=f"statement:{expert.id}:{year}:no-safe-channel",
        )
        return Sent(False, "There is no safe way to send it: their link worker has a task.")
    key = f"statement:{expert.id}:{year}:{now:%Y-%m-%d}"
    waiting = await session.scalar(select(Message).where(Message.idempotency_key == key))
    if waiting is not None:
        raise StatementError(f"The statement for {year} was already sent to them today")
    session.add(
        Message(
            expert_id=expert.id,
            purpose=Purpose.STATEMENT,
            idempotency_key=key,
            due_at=now,
            next_attempt_at=now,
            status=MessageStatus.PENDING,
            variant=year,
            personal_note=made.record,
            created_at=now,
            updated_at=now,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="statement.sent",
        entity="expert",
        entity_id=expert.id,
        at=now,
        year=year,
    )
    await session.flush()
    way = in_sentence(channels[0])
    return Sent(
        True,
        f"The statement for {year} ({pounds(made.total_pence)}) will go by {way}, "
        "or by another way safe for details if that one fails.",
    )
