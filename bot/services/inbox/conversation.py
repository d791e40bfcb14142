"""One conversation per expert: what passed between them and us, on every channel, in
time order, and apart from it the notes staff keep for each other.

The thread holds what the person saw or said: messages that went (or wait to go, when a
person wrote them), replies and the automatic answers to them, letters (posted or not
yet), and the calls and contacts staff recorded on their tasks. Staff notes never mix in:
they are a list of their own, so nobody mistakes a note for something the person was told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.inbox.tasks import PHONE_KINDS
from scheduling.rules.characters import typeable
from scheduling.text.words import label
from store import audit
from store.enums import Channel, MessageStatus, Purpose, TaskKind, TaskStatus
from store.errors import Refused
from store.models import Expert, Message, Reply, Staff, StaffNote, Task

MAX_NOTE = 1000
POSTED = "posted"  # a letter's attempt once its batch went in the post (delivery/letters.py)
# Messages that reached (or may have reached) the person.
WENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNCERTAIN)
# Tasks whose outcome records contact a person made.
CONTACT_KINDS = PHONE_KINDS | {
    TaskKind.WELCOME_BACK,
    TaskKind.GET_IN_TOUCH,
    TaskKind.MISSED_YOU,
    TaskKind.URGENT_REPLY,
}


class NoteRefused(Refused):
    """A note that can't be kept; the message says why."""


@dataclass(frozen=True)
class Turn:
    """One thing said, either way, as staff read it."""

    at: datetime
    incoming: bool  # they said it to us
    who: str  # "Ana", "Sam Taylor" (who wrote it), "Linkline"
    how: str  # "Text message", "Phone call", "Letter"
    what: str  # "Keeping in touch", "Their reply", "Written by staff"
    text: str
    status: str  # "Delivered", "Waiting to be sent", "Posted", ""
    reply_id: int | None = None  # their reply, which staff may answer


async def conversation(session: AsyncSession, expert: Expert, limit: int = 300) -> list[Turn]:
    """The latest ``limit`` turns with this person, oldest first."""
    turns = [
        *await _messages(session, expert, limit),
        *await _replies(session, expert, limit),
        *await _calls(session, expert, limit),
    ]
    turns.sort(key=lambda t: (t.at, t.incoming is False))
    return turns[-limit:]


async def notes(session: AsyncSession, expert_id: int, limit: int = 100) -> list[StaffNote]:
    """Staff notes on this conversation, oldest first."""
    rows = await session.scalars(
        select(StaffNote)
        .where(StaffNote.expert_id == expert_id)
        .options(selectinload(StaffNote.written_by))
        .order_by(StaffNote.created_at.desc(), StaffNote.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


async def add_note(
    session: AsyncSession, expert: Expert, by: Staff, text: str, now: datetime, *, actor: str
) -> StaffNote:
    """Keep a note for colleagues; the person never sees it."""
    text = text.replace("\r\n", "\n").strip()
    if not text or text == "None":
        raise NoteRefused("write the note first: it is empty", field="note")
    if not typeable(text, multi_line=True):
        raise NoteRefused(
            "the note has a character nobody can type (a control character): retype it",
            field="note",
        )
    if len(text) > MAX_NOTE:
        raise NoteRefused(
            f"that is {len(text)} characters; a note can be at most {MAX_NOTE}", field="note"
        )
    note = StaffNote(expert_id=expert.id, written_by_id=by.id, body=text, created_at=now)
    session.add(note)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="note.added",
        entity="expert",
        entity_id=expert.id,
        at=now,
        note_id=note.id,
    )
    return note


async def _messages(session: AsyncSession, expert: Expert, limit: int) -> list[Turn]:
    rows = await session.scalars(
        select(Message)
        .where(
            Message.expert_id == expert.id,
            Message.status.in_(WENT) | (Message.purpose == Purpose.WRITTEN),
        )
        .options(selectinload(Message.attempts_log))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    messages = list(rows)
    writers = await _staff_names(session, {m.written_by_id for m in messages})
    return [_message_turn(m, expert, writers) for m in messages]


def _message_turn(message: Message, expert: Expert, writers: dict[int, str]) -> Turn:
    written = message.purpose is Purpose.WRITTEN
    who = writers.get(message.written_by_id or 0, "A member of staff") if written else "Linkline"
    text = message.body or (message.personal_note if written else None) or ""
    if message.subject:
        text = f"Subject: {message.subject}\n{text}"
    return Turn(
        at=message.sent_at or message.created_at,
        incoming=False,
        who=who,
        how=label(message.channel, missing="Way not chosen yet"),
        what=label(message.purpose),
        text=text,
        status=_status(message),
    )


def _status(message: Message) -> str:
    if message.channel is Channel.LETTER and message.status in WENT:
        posted = any(a.provider_status == POSTED for a in message.attempts_log)
        return "Posted" if posted else "Printed, waiting to be posted"
    if message.status is MessageStatus.PENDING and message.deferrals:
        return "Waiting for their safe times"
    return label(message.status)


async def _replies(session: AsyncSession, expert: Expert, limit: int) -> list[Turn]:
    rows = await session.scalars(
        select(Reply)
        .where(Reply.expert_id == expert.id)
        .order_by(Reply.received_at.desc(), Reply.id.desc())
        .limit(limit)
    )
    turns: list[Turn] = []
    for reply in rows:
        how = label(reply.channel)
        seen = "Worrying: " if reply.urgent else ""
        status = (
            f"{seen}{'Read by a person' if reply.acknowledged_at else 'Not read by a person yet'}"
        )
        if not reply.needs_person and reply.acknowledged_at is None:
            status = f"{seen}Answered automatically"
        turns.append(
            Turn(
                reply.received_at,
                True,
                expert.preferred_name,
                how,
                "Their reply",
                reply.body,
                status,
            )
        )
        if reply.auto_answer:
            turns.append(
                Turn(
                    reply.received_at,
                    False,
                    "Linkline",
                    how,
                    "Automatic answer",
                    reply.auto_answer,
                    "Sent",
                )
            )
    return turns


async def _calls(session: AsyncSession, expert: Expert, limit: int) -> list[Turn]:
    rows = await session.scalars(
        select(Task)
        .where(
            Task.expert_id == expert.id,
            Task.status == TaskStatus.DONE,
            Task.kind.in_(CONTACT_KINDS),
        )
        .options(selectinload(Task.assignee))
        .order_by(Task.done_at.desc(), Task.id.desc())
        .limit(limit)
    )
    turns = []
    for task in rows:
        who = task.assignee.name if task.assignee is not None else "A member of staff"
        how = label(Channel.PHONE) if task.kind in PHONE_KINDS else "Contact by a person"
        turns.append(
            Turn(
                task.done_at or task.created_at,
                False,
                who,
                how,
                label(task.kind),
                task.outcome or "Done",
                "Recorded by staff",
            )
        )
    return turns


async def _staff_names(session: AsyncSession, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(Staff).where(Staff.id.in_(wanted)))
    return {s.id: s.name for s in rows}
