"""The delivery log: every planned message with its status, channel and attempts.

The CLI reads it oldest first (`delivery_log`); the administrators' pages read it newest
first, a page at a time (`log_page`), through the filter form (`log_filter`) and as CSV
(`log_csv`). Message text is personal: it is only ever read for the expert's own link
worker (`texts_for`), never decrypted for anyone else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from scheduling.text.words import (
    ATTEMPT_OUTCOMES,
    CHANNELS_FOR_STAFF,
    MESSAGE_STATUSES_BRIEF,
    PURPOSES,
    reason_in_words,
)
from store.enums import Channel, MessageStatus, Purpose
from store.models import Engagement, Expert, Message, Staff

_Query = TypeVar("_Query", bound=Select[Any])
PER_PAGE = 50

# GOV.UK tag colours; the tag's text always says the status, so colour is never the only cue.
STATUS_COLOURS: dict[MessageStatus, str] = {
    MessageStatus.PENDING: "govuk-tag--grey",
    MessageStatus.SENDING: "govuk-tag--light-blue",
    MessageStatus.SENT: "govuk-tag--blue",
    MessageStatus.DELIVERED: "govuk-tag--green",
    MessageStatus.FAILED: "govuk-tag--red",
    MessageStatus.UNCERTAIN: "govuk-tag--orange",
    MessageStatus.HANDED_TO_PERSON: "govuk-tag--purple",
    MessageStatus.SUPPRESSED: "govuk-tag--grey",
    MessageStatus.CANCELLED: "govuk-tag--yellow",
}
HIDDEN_TEXT = "Hidden: only their link worker sees message text"


@dataclass(frozen=True)
class LogFilter:
    expert_id: int | None = None
    channel: Channel | None = None
    status: MessageStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200
    link_worker_id: int | None = None


def _filtered(query: _Query, f: LogFilter) -> _Query:
    if f.expert_id is not None:
        query = query.where(Message.expert_id == f.expert_id)
    if f.channel is not None:
        query = query.where(Message.channel == f.channel)
    if f.status is not None:
        query = query.where(Message.status == f.status)
    if f.since is not None:
        query = query.where(Message.due_at >= f.since)
    if f.until is not None:
        query = query.where(Message.due_at < f.until)
    if f.link_worker_id is not None:
        mine = select(Expert.id).where(Expert.link_worker_id == f.link_worker_id)
        query = query.where(Message.expert_id.in_(mine))
    return query


async def delivery_log(session: AsyncSession, f: LogFilter) -> list[Message]:
    query = _filtered(
        select(Message).options(selectinload(Message.attempts_log), selectinload(Message.expert)),
        f,
    )
    rows = await session.scalars(query.order_by(Message.due_at, Message.id).limit(f.limit))
    return list(rows)


@dataclass(frozen=True)
class LogLine:
    """One message as the log shows it: no contact details, and text only for its link worker."""

    id: int
    due_at: datetime
    sent_at: datetime | None
    expert_id: int
    expert_ref: str
    link_worker: str
    purpose: Purpose
    channel: Channel | None
    status: MessageStatus
    reason: str
    provider_status: str
    provider_error: str
    attempts: int

    @property
    def status_label(self) -> str:
        return MESSAGE_STATUSES_BRIEF[self.status]

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS[self.status]

    @property
    def purpose_label(self) -> str:
        return PURPOSES[self.purpose]

    @property
    def channel_label(self) -> str:
        return CHANNELS_FOR_STAFF[self.channel] if self.channel else "Not chosen yet"


@dataclass(frozen=True)
class LogPage:
    lines: list[LogLine]
    total: int
    page: int
    pages: int


def expert_label(expert: Expert) -> str:
    """How the log names someone: the organisation's reference, never the name."""
    return expert.ref or f"Expert {expert.id}"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def scrub(text: str | None) -> str:
    """A provider's error without anything that looks like an address or a phone number or
    chat id. Channels already keep these out; this is the second lock on the door."""
    if not text:
        return ""
    return _NUMBER.sub("[number hidden]", _EMAIL.sub("[email hidden]", text))


def line_of(message: Message) -> LogLine:
    """What the log shows of one message loaded by `log_query`."""
    last = message.attempts_log[-1] if message.attempts_log else None
    worker = message.expert.link_worker
    return LogLine(
        id=message.id,
        due_at=message.due_at,
        sent_at=message.sent_at,
        expert_id=message.expert_id,
        expert_ref=expert_label(message.expert),
        link_worker=worker.name if worker is not None else "",
        purpose=message.purpose,
        channel=message.channel,
        status=message.status,
        reason=reason_in_words(message.status_reason),
        provider_status=(last.provider_status or "") if last else "",
        provider_error=scrub(last.error) if last else "",
        attempts=len(message.attempts_log),
    )


def log_query(f: LogFilter) -> Select[Message]:
    """Newest first; the text columns are left unread (see `texts_for`)."""
    return _filtered(
        select(Message).options(
            defer(Message.subject),
            defer(Message.body),
            defer(Message.personal_note),
            selectinload(Message.attempts_log),
            selectinload(Message.expert)
            .load_only(Expert.id, Expert.ref, Expert.link_worker_id)
            .selectinload(Expert.link_worker)
            .load_only(Staff.id, Staff.name),
        ),
        f,
    ).order_by(Message.due_at.desc(), Message.id.desc())


async def log_page(
    session: AsyncSession, f: LogFilter, page: int, per_page: int = PER_PAGE
) -> LogPage:
    """One page of the log, newest first, with how many pages there are."""
    total = await session.scalar(_filtered(select(func.count(Message.id)), f)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = await session.scalars(log_query(f).offset((page - 1) * per_page).limit(per_page))
    return LogPage([line_of(m) for m in rows], total, page, pages)


async def log_line(session: AsyncSession, message_id: int) -> tuple[Message, LogLine] | None:
    """One message with its attempts, for its own page."""
    message = await session.scalar(
        log_query(LogFilter())
        .where(Message.id == message_id)
        .options(selectinload(Message.engagement).load_only(Engagement.id, Engagement.title))
    )
    if message is None:
        return None
    return message, line_of(message)


@dataclass(frozen=True)
class AttemptLine:
    started_at: datetime
    channel: str
    outcome: str
    provider_id: str
    provider_status: str
    error: str


def attempt_lines(message: Message) -> list[AttemptLine]:
    """Every delivery attempt of a message, oldest first, in words."""
    return [
        AttemptLine(
            started_at=a.started_at,
            channel=CHANNELS_FOR_STAFF[a.channel],
            outcome=ATTEMPT_OUTCOMES[a.outcome],
            provider_id=a.provider_id or "",
            provider_status=a.provider_status or "",
            error=scrub(a.error),
        )
        for a in message.attempts_log
    ]


async def texts_for(
    session: AsyncSession, message_ids: Sequence[int], viewer_id: int
) -> dict[int, tuple[str | None, str | None]]:
    """Subject and body of the messages whose expert this viewer is link worker for.

    The text of anyone else's expert is never loaded, so it cannot leak into a page or a
    file by mistake.
    """
    if not message_ids:
        return {}
    rows = await session.execute(
        select(Message.id, Message.subject, Message.body)
        .join(Expert, Expert.id == Message.expert_id)
        .where(Message.id.in_(message_ids), Expert.link_worker_id == viewer_id)
    )
    return {row.id: (row.subject, row.body) for row in rows}


def midnight(day: date, tz: str) -> datetime:
    """The moment a calendar day starts in ``tz``, in UTC (it moves with the clocks)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)
