"""The delivery log: every planned message with its status, channel and attempts.

The CLI reads it oldest first (`delivery_log`); the administrators' pages read it newest
first, a page at a time, and as CSV. Message text is personal: it is only ever read for
the expert's own link worker (`texts_for`), never decrypted for anyone else.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, selectinload

from bot.services.contact_details import guard_formula
from store import audit
from store.enums import AttemptOutcome, Channel, MessageStatus, Purpose
from store.errors import Refused
from store.models import Engagement, Expert, Message, Staff

_Row = TypeVar("_Row", bound=tuple[Any, ...])
LONDON = ZoneInfo("Europe/London")
PER_PAGE = 50
EXPORT_CHUNK = 1000

STATUS_LABELS: dict[MessageStatus, str] = {
    MessageStatus.PENDING: "Waiting",
    MessageStatus.SENDING: "Sending",
    MessageStatus.SENT: "Sent",
    MessageStatus.DELIVERED: "Delivered",
    MessageStatus.FAILED: "Failed",
    MessageStatus.UNCERTAIN: "May have been sent",
    MessageStatus.HANDED_TO_PERSON: "Handed to a person",
    MessageStatus.SUPPRESSED: "Not sent: a rule stopped it",
    MessageStatus.CANCELLED: "Cancelled",
}
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
CHANNEL_LABELS: dict[Channel, str] = {
    Channel.SMS: "Text message (SMS)",
    Channel.TELEGRAM: "Telegram",
    Channel.EMAIL: "Email",
    Channel.LETTER: "Letter",
    Channel.PHONE: "Phone call",
}
PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.PRE_BRIEF: "Pre-brief",
    Purpose.REMINDER: "Reminder",
    Purpose.CHECK_IN: "Check-in",
    Purpose.DE_BRIEF: "De-brief",
    Purpose.FEEDBACK: "You said, we did",
    Purpose.PASTORAL: "Keeping in touch",
    Purpose.CANCELLATION: "Cancellation",
    Purpose.TIME_CHANGED: "Time changed",
}
OUTCOME_LABELS: dict[AttemptOutcome, str] = {
    AttemptOutcome.IN_PROGRESS: "Being sent",
    AttemptOutcome.ACCEPTED: "Accepted by the provider",
    AttemptOutcome.TRANSIENT_FAILURE: "Failed, will try again",
    AttemptOutcome.PERMANENT_FAILURE: "Failed on this channel",
    AttemptOutcome.UNKNOWN: "Not known: may have been sent",
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


def _filtered(query: Select[_Row], f: LogFilter) -> Select[_Row]:
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


# --- The administrators' view -------------------------------------------------------------


class FilterProblem(Refused):
    """Filter values that cannot be used; ``errors`` maps each field id to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


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
        return STATUS_LABELS[self.status]

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS[self.status]

    @property
    def purpose_label(self) -> str:
        return PURPOSE_LABELS.get(self.purpose, self.purpose.value)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS[self.channel] if self.channel else "Not chosen yet"


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
        reason=message.status_reason or "",
        provider_status=(last.provider_status or "") if last else "",
        provider_error=scrub(last.error) if last else "",
        attempts=len(message.attempts_log),
    )


def log_query(f: LogFilter) -> Select[tuple[Message]]:
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
            channel=CHANNEL_LABELS[a.channel],
            outcome=OUTCOME_LABELS[a.outcome],
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


# --- Reading the filter form --------------------------------------------------------------


@dataclass(frozen=True)
class FilterChoices:
    """What the filter form offers: statuses, channels and the staff who have experts."""

    statuses: list[tuple[str, str]]
    channels: list[tuple[str, str]]
    staff: list[tuple[str, str]]


async def filter_choices(session: AsyncSession) -> FilterChoices:
    staff = await session.execute(
        select(Staff.id, Staff.name)
        .where(Staff.id.in_(select(Expert.link_worker_id)))
        .order_by(Staff.name, Staff.id)
    )
    return FilterChoices(
        statuses=[(s.value, STATUS_LABELS[s]) for s in MessageStatus],
        channels=[(c.value, CHANNEL_LABELS[c]) for c in Channel],
        staff=[(str(row.id), row.name) for row in staff],
    )


def _london_date(raw: Mapping[str, str], prefix: str, name: str) -> tuple[date | None, str | None]:
    """A date typed as day, month and year (GOV.UK's date input), or given in a link as
    2026-03-27; or the error to show."""
    parts = [raw.get(f"{prefix}-{part}", "").strip() for part in ("day", "month", "year")]
    if not any(parts) and (iso := raw.get(prefix, "").strip()):
        parts = list(reversed(iso.split("-"))) if iso.count("-") == 2 else ["x", "x", "x"]
    if not any(parts):
        return None, None
    if not all(parts):
        return None, f"{name} must include a day, month and year"
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None, f"{name} must be a real date, for example 27 3 2026"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), None
    except ValueError:
        return None, f"{name} must be a real date, for example 27 3 2026"


def london_midnight(day: date) -> datetime:
    """The moment a London calendar day starts, in UTC (it moves with the clocks)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


async def read_filter(session: AsyncSession, raw: Mapping[str, str]) -> LogFilter:
    """The log's filter form, checked: a bad value is an error by its field, never a crash.

    Dates are London calendar days, both ends included, matched on when a message was due.
    """
    errors: dict[str, str] = {}
    status = channel = None
    text = raw.get("status", "").strip()
    if text:
        try:
            status = MessageStatus(text)
        except ValueError:
            errors["status"] = "Choose a status from the list"
    text = raw.get("channel", "").strip()
    if text:
        try:
            channel = Channel(text)
        except ValueError:
            errors["channel"] = "Choose a channel from the list"
    since, problem = _london_date(raw, "from", "Date from")
    if problem:
        errors["from"] = problem
    until, problem = _london_date(raw, "to", "Date to")
    if problem:
        errors["to"] = problem
    if since and until and since > until:
        errors["to"] = "Date to must be the same as or after date from"
    worker_id = None
    text = raw.get("staff", "").strip()
    if text:
        known = text.isdigit() and await session.scalar(
            select(Expert.id).where(Expert.link_worker_id == int(text)).limit(1)
        )
        if known:
            worker_id = int(text)
        else:
            errors["staff"] = "Choose a link worker from the list"
    expert_id = None
    text = raw.get("expert", "").strip()
    if text:
        expert_id = await session.scalar(select(Expert.id).where(Expert.ref == text))
        if expert_id is None:
            errors["expert"] = "No expert has this reference: check it and try again"
    if errors:
        raise FilterProblem(errors)
    return LogFilter(
        expert_id=expert_id,
        channel=channel,
        status=status,
        since=london_midnight(since) if since else None,
        until=london_midnight(until + timedelta(days=1)) if until else None,
        link_worker_id=worker_id,
    )


def read_page_number(text: str) -> int:
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise FilterProblem({"page": "The page number must be a whole number, 1 or more"})
    return int(text)


# --- CSV ----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "message", "due (UK time)", "sent (UK time)", "expert ref", "link worker", "purpose",
    "channel", "status", "why", "provider status", "provider error", "attempts", "text",
)  # fmt: skip


@dataclass(frozen=True)
class LogExport:
    text: str
    count: int


def _uk(moment: datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") if moment else ""


def _text_cell(text: tuple[str | None, str | None] | None) -> str:
    if text is None:
        return ""
    subject, body = text
    return "\n\n".join(part for part in (subject, body) if part)


async def export_csv(
    session: AsyncSession, f: LogFilter, *, viewer_id: int, actor: str, now: datetime
) -> LogExport:
    """The log as CSV, newest first: no phone numbers or addresses, text only for the
    viewer's own experts, and every cell guarded against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count, offset = 0, 0
    while True:
        chunk = list(await session.scalars(log_query(f).offset(offset).limit(EXPORT_CHUNK)))
        if not chunk:
            break
        texts = await texts_for(session, [m.id for m in chunk], viewer_id)
        for message in chunk:
            line = line_of(message)
            cells = (
                str(line.id), _uk(line.due_at), _uk(line.sent_at), line.expert_ref,
                line.link_worker, line.purpose_label,
                line.channel_label if line.channel else "", line.status_label, line.reason,
                line.provider_status, line.provider_error, str(line.attempts),
                _text_cell(texts.get(line.id)),
            )  # fmt: skip
            writer.writerow([guard_formula(cell) for cell in cells])
        count += len(chunk)
        offset += EXPORT_CHUNK
    audit.record(
        session,
        actor=actor,
        action="delivery_log.exported",
        entity="message",
        entity_id=None,
        at=now,
        count=count,
    )
    return LogExport(out.getvalue(), count)
