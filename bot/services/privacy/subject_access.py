"""Subject access: everything Linkline holds about one expert, as one plain HTML document
they can open and read (no scripts, no styles), in the words of `scheduling.text.words`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.experts.profile import describe_status
from bot.services.privacy.audit_search import about_expert, describe_action, describe_entity
from scheduling.people import ledger
from scheduling.rules.payments import pounds
from scheduling.rules.windows import SafeWindow, WindowError
from scheduling.text import words
from scheduling.text.payment_words import choice_words
from store import audit
from store.enums import Channel, InvitationAnswer, MessageStatus, Purpose
from store.models import (
    AuditEvent,
    ChannelConsent,
    ContactChange,
    ContactPoint,
    ContactWindow,
    Expert,
    Invitation,
    Message,
    PaymentLine,
    Reply,
    Staff,
    StaffNote,
    Task,
)

_E = TypeVar("_E", bound=StrEnum)
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates" / "privacy"


@dataclass
class ExpertRecord:
    """Everything Linkline holds about one expert, loaded and decrypted, for one document."""

    expert: Expert
    status: str
    generated_at: datetime
    contact_points: list[ContactPoint]
    contact_changes: list[ContactChange]
    consents: list[ChannelConsent]
    windows: list[ContactWindow]
    invitations: list[Invitation]
    messages: list[Message]
    replies: list[Reply]
    tasks: list[Task]
    audit_events: list[AuditEvent]
    tz: str  # the organisation's time zone: every time in the document is read in it
    staff_names: dict[int, str] = field(default_factory=dict)
    # Staff-only notes on their conversation: they never saw them, but they are theirs to see.
    notes: list[StaffNote] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)  # what we owed or paid them


async def build_export(
    session: AsyncSession, expert: Expert, *, now: datetime, tz: str
) -> ExpertRecord:
    """Load everything about them, for `render_export`; times are read in ``tz``."""
    eid = expert.id
    loaded = await session.scalar(
        select(Expert)
        .where(Expert.id == eid)
        .options(
            selectinload(Expert.link_worker),
            selectinload(Expert.contact_points),
            selectinload(Expert.consents),
            selectinload(Expert.windows),
        )
    )
    assert loaded is not None
    staff = {s.id: s.name for s in await session.scalars(select(Staff))}
    return ExpertRecord(
        payments=await ledger.lines_for(session, expert_id=eid),
        expert=loaded,
        status=describe_status(loaded, now),
        generated_at=now,
        contact_points=sorted(loaded.contact_points, key=lambda p: p.id),
        contact_changes=list(
            await session.scalars(
                select(ContactChange)
                .where(ContactChange.expert_id == eid)
                .order_by(ContactChange.requested_at)
            )
        ),
        consents=sorted(loaded.consents, key=lambda c: c.id),
        windows=list(loaded.windows),
        invitations=list(
            await session.scalars(
                select(Invitation)
                .where(Invitation.expert_id == eid)
                .options(selectinload(Invitation.engagement))
                .order_by(Invitation.created_at, Invitation.id)
            )
        ),
        messages=list(
            await session.scalars(
                select(Message).where(Message.expert_id == eid).order_by(Message.due_at, Message.id)
            )
        ),
        replies=list(
            await session.scalars(
                select(Reply).where(Reply.expert_id == eid).order_by(Reply.received_at, Reply.id)
            )
        ),
        tasks=list(
            await session.scalars(
                select(Task).where(Task.expert_id == eid).order_by(Task.created_at, Task.id)
            )
        ),
        audit_events=list(
            await session.scalars(
                select(AuditEvent).where(about_expert(eid)).order_by(AuditEvent.at, AuditEvent.id)
            )
        ),
        tz=tz,
        staff_names=staff,
        notes=list(
            await session.scalars(
                select(StaffNote)
                .where(StaffNote.expert_id == eid)
                .order_by(StaffNote.created_at, StaffNote.id)
            )
        ),
    )


def _zone(context: Context) -> ZoneInfo:
    return ZoneInfo(context["record"].tz)


@pass_context
def _local(context: Context, value: datetime | None) -> str:
    return value.astimezone(_zone(context)).strftime("%-d %B %Y, %H:%M") if value else ""


@pass_context
def _day(context: Context, value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_zone(context)).date()
    return value.strftime("%-d %B %Y")


def _window(window: ContactWindow) -> str:
    """ "Monday to Friday, 10am to 4pm", as the link worker agreed it with them."""
    try:
        hours = f"{window.start:%H:%M}-{window.end:%H:%M}"
        return SafeWindow.parse(window.days, hours).describe()
    except WindowError:
        return f"{window.days}, {window.start:%H:%M} to {window.end:%H:%M}"


def _lines(text: str | None) -> Markup:
    """Someone's words with their line breaks kept, and nothing in them read as HTML."""
    return escape(text or "").replace("\n", Markup("<br>\n"))


def _readable(value: object) -> str:
    """Words for a value the table does not cover (a plan setting's name, say)."""
    key = str(getattr(value, "value", value))
    return key.replace("_", " ").capitalize()


def _in_table(value: object, kind: type[_E], table: Mapping[_E, str]) -> str:
    """The table's words for a stored value (an enum, or its text in a JSON list)."""
    try:
        return table[kind(str(value))]
    except (ValueError, KeyError):
        return _readable(value)


def _words(value: object) -> str:
    """Any enum in `scheduling.text.words` reads as the table says; anything else readably."""
    if isinstance(value, StrEnum):
        try:
            return words.label(value)
        except KeyError:
            pass
    return _readable(value)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        local=_local,
        day=_day,
        purpose=lambda v: _in_table(v, Purpose, words.PURPOSE_DESCRIPTIONS),
        channel=lambda v: _in_table(v, Channel, words.CHANNELS) if v else "Any way",
        message_status=lambda v: _in_table(v, MessageStatus, words.MESSAGE_STATUSES),
        answer=lambda v: _in_table(v, InvitationAnswer, words.ANSWERS),
        words=_words,
        window=_window,
        lines=_lines,
        action=describe_action,
        entity=describe_entity,
        payment_choice=choice_words,
        money=pounds,
        payment_words=lambda v: words.label(v),
    )
    return env


def render_export(record: ExpertRecord) -> str:
    """A plain HTML document the person can open and read: no scripts, no styles."""
    return _environment().get_template("export.html").render(record=record)


def who(expert: Expert) -> str:
    """How records refer to an expert: the organisation's reference, never the name."""
    return expert.ref or str(expert.id)


def export_filename(expert: Expert, today: date) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", who(expert)).strip("-") or str(expert.id)
    return f"linkline-expert-{safe}-{today.isoformat()}.html"


@dataclass(frozen=True)
class Export:
    filename: str
    html: str


async def export_expert(
    session: AsyncSession, expert: Expert, *, now: datetime, actor: str, tz: str
) -> Export:
    """Everything held about them as one readable file; the download is audited.
    Times in it, and the day in its name, are read in ``tz``."""
    record = await build_export(session, expert, now=now, tz=tz)
    html = render_export(record)
    audit.record(
        session, actor=actor, action="expert.exported", entity="expert", entity_id=expert.id, at=now
    )
    return Export(export_filename(expert, now.astimezone(ZoneInfo(tz)).date()), html)
