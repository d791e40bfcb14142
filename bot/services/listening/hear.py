"""Storing one inbound message and handing it to the rules, in a transaction of its own
that is tried again when it collides with another change."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from bot.services.listening import sender
from bot.services.listening.answers import attach_to_open_task
from bot.services.listening.dispatch import from_expert
from bot.services.listening.inbound import MAX_BODY_CHARS, Heard, Inbound, Listening, sender_key
from bot.services.listening.strangers import from_stranger, link
from bot.services.listening.turn import Turn
from store.enums import TaskKind
from store.models import Expert, Reply

log = logging.getLogger(__name__)

RETRIES = 3


async def receive(session: AsyncSession, inbound: Inbound, rules: Listening) -> Heard:
    """Store, understand and act on one inbound message; a repeat does nothing."""
    key = sender_key(inbound.channel, inbound.sender)
    reply = await _store(
        session,
        channel=inbound.channel,
        provider_ref=inbound.provider_ref,
        sender=key,
        sender_hash=rules.cipher.blind_index(key),
        # A link code is a key to someone's chat: never kept.
        body="/start" if inbound.link_code is not None else _body(inbound),
        received_at=inbound.received_at,
    )
    if reply is None:
        return Heard(duplicate=True)
    turn = Turn(session, rules, inbound, reply)
    if inbound.link_code is not None:
        await link(turn, inbound.link_code)
    else:
        found = await sender.by_hash(
            session, inbound.channel, reply.sender_hash or "", inbound.received_at
        )
        turn.asked = {expert.id: question for expert, question in found}
        experts = [expert for expert, _ in found]
        if inbound.expert_id is not None:
            experts = await _named(session, experts, inbound.expert_id)
        if len(experts) == 1:
            await from_expert(turn, experts[0])
            if inbound.unclear and not reply.needs_person:
                reply.needs_person = True
                await attach_to_open_task(turn, experts[0], TaskKind.READ_REPLY)
        else:
            await from_stranger(turn, len(experts))
    reply.auto_answer = turn.answer if inbound.answerable else None
    return Heard(reply_id=reply.id, answer=reply.auto_answer)


async def hear(
    sessions: async_sessionmaker[AsyncSession], inbound: Inbound, rules: Listening
) -> Heard:
    """``receive`` in a transaction of its own, tried again when it collides.

    Two replies about one engagement at the same moment both re-plan it, and the second
    commit can hit the first one's new rows (a unique key, or a deadlock on PostgreSQL).
    That is not a repeat of the same message, so it is handled again from the start; only
    a provider reference already stored means a true repeat. Still failing after a few
    tries raises, so the webhook answers 5xx and the provider delivers it again: a reply
    is never dropped with a 200.
    """
    for attempt in range(1, RETRIES + 1):
        try:
            async with sessions.begin() as session:
                return await receive(session, inbound, rules)
        except (IntegrityError, OperationalError):
            async with sessions() as session:
                stored = await session.scalar(
                    select(Reply.id).where(Reply.provider_ref == inbound.provider_ref)
                )
            if stored is not None:
                return Heard(duplicate=True)
            if attempt == RETRIES:
                raise
            log.info("an inbound message collided with another change; handling it again")
    raise AssertionError("unreachable")


async def _store(session: AsyncSession, **given: Any) -> Reply | None:
    """The reply stored (encrypted) before anything acts on it, or None for a repeat.

    One statement does both: the INSERT does nothing when the provider reference is
    already stored (its unique key), so a repeat, even one arriving at the same moment,
    costs no separate look-up. The stored row then joins the session as loaded, and what
    the rules decide about it is written by one UPDATE at the commit.
    """
    values = {**_UNDECIDED, **given}
    reply_id = await session.scalar(_INSERT[session.get_bind().dialect.name], values)
    if reply_id is None:
        return None
    reply = Reply(id=reply_id, **values)
    make_transient_to_detached(reply)  # as if just loaded: nothing pending, no SELECT
    session.add(reply)
    return reply


_INSERT = {  # by the dialect's name, as the engine gives it
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(Reply.__table__)
    .on_conflict_do_nothing(index_elements=["provider_ref"])
    .returning(Reply.__table__.c.id)
    for dialect in (postgresql, sqlite)
}

# Every other column of a new reply, given so the row needs no reading back.
_UNDECIDED: dict[str, Any] = {
    "expert_id": None,
    "intent": None,
    "score": None,
    "urgent": False,
    "needs_person": False,
    "auto_answer": None,
    "in_reply_to_id": None,
    "task_id": None,
    "acknowledged_at": None,
    "acknowledged_by_id": None,
    "escalated_at": None,
}


def _body(inbound: Inbound) -> str:
    note = f"\n\n[{inbound.note}]" if inbound.note else ""
    return inbound.text[: MAX_BODY_CHARS - len(note)] + note


async def _named(session: AsyncSession, matched: list[Expert], expert_id: int) -> list[Expert]:
    """The expert a reply names (by the message it answers), whichever address wrote."""
    chosen = [expert for expert in matched if expert.id == expert_id]
    if chosen:
        return chosen
    expert = await sender.by_id(session, expert_id)
    return [expert] if expert is not None else matched
