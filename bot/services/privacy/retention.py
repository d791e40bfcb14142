"""Privacy: how long things are kept, the audit log, a copy of everything held about one
expert (subject access), and erasing an expert.

The audit log records ids and field names only, never content or contact details, so it
can be kept for years and shown to administrators without showing anyone's words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.services.experts.profile import describe_status
from bot.settings import Settings
from scheduling.maintenance import (
    DEFAULT_RECORD_RETENTION_DAYS,
    MESSAGE_RETENTION_KEY,
    RECORD_RETENTION_KEY,
    setting_days,
)
from scheduling.rules.windows import SafeWindow, WindowError
from store import audit
from store.enums import MessageStatus
from store.errors import Refused
from store.models import (
    AuditEvent,
    ChannelConsent,
    ContactChange,
    ContactPoint,
    ContactWindow,
    Expert,
    Invitation,
    Message,
    OrgSetting,
    Reply,
    Staff,
    Task,
    TelegramLink,
)

LONDON = ZoneInfo("Europe/London")
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates" / "privacy"

MIN_MESSAGE_DAYS, MAX_MESSAGE_DAYS = 7, 3650
MAX_RECORD_DAYS = 7300  # twenty years
AUDIT_PAGE_SIZE = 50


class PrivacyError(Refused):
    """Refused input; ``errors`` maps each form field to what to do about it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors=errors)


# ---------------------------------------------------------------------------------------
# Retention


@dataclass(frozen=True)
class RetentionChoice:
    """One retention period, and who last chose it (None: the starting value is in use)."""

    days: int
    updated_at: datetime | None = None
    updated_by: str | None = None


@dataclass(frozen=True)
class RetentionSettings:
    messages: RetentionChoice
    records: RetentionChoice
    silence_days: int  # replies must be kept at least this long: see check_retention


async def load_retention(session: AsyncSession, settings: Settings) -> RetentionSettings:
    """What the purge will use: the administrators' choice, else the starting values."""
    rows = {
        row.key: row
        for row in await session.scalars(
            select(OrgSetting).where(
                OrgSetting.key.in_((MESSAGE_RETENTION_KEY, RECORD_RETENTION_KEY))
            )
        )
    }

    def choice(key: str, default: int) -> RetentionChoice:
        row = rows.get(key)
        days = setting_days(row.value) if row is not None else None
        if row is None or days is None:
            return RetentionChoice(default)
        return RetentionChoice(days, row.updated_at, row.updated_by)

    return RetentionSettings(
        messages=choice(MESSAGE_RETENTION_KEY, settings.retention_days),
        records=choice(RECORD_RETENTION_KEY, DEFAULT_RECORD_RETENTION_DAYS),
        silence_days=settings.silence_days,
    )


def _whole_days(text: str) -> int | None:
    text = text.strip().replace(",", "")
    return int(text) if text.isdigit() and len(text) <= 6 else None


def check_retention(message_text: str, record_text: str, *, silence_days: int) -> tuple[int, int]:
    """Both periods as whole days, or PrivacyError with a message for each field.

    Replies are how Linkline knows someone has been in touch: deleting them sooner than
    the silence check looks back would make people look silent and open needless tasks.
    """
    errors: dict[str, str] = {}
    messages, records = _whole_days(message_text), _whole_days(record_text)
    lowest = max(MIN_MESSAGE_DAYS, silence_days)
    if not message_text.strip():
        errors["message_days"] = "Enter how many days message texts and replies are kept"
    elif messages is None:
        errors["message_days"] = "Enter a whole number of days, such as 90"
    elif messages < lowest:
        errors["message_days"] = f"Keep message texts and replies for at least {lowest} days" + (
            f". Linkline looks back {silence_days} days for a reply before asking a "
            "link worker to check in, so replies must be kept at least that long"
            if silence_days > MIN_MESSAGE_DAYS
            else ""
        )
    elif messages > MAX_MESSAGE_DAYS:
        errors["message_days"] = (
            f"Keep message texts and replies for at most {MAX_MESSAGE_DAYS} days"
        )
    if not record_text.strip():
        errors["record_days"] = "Enter how many days tasks and the audit log are kept"
    elif records is None:
        errors["record_days"] = "Enter a whole number of days, such as 2190"
    elif records > MAX_RECORD_DAYS:
        errors["record_days"] = f"Keep tasks and the audit log for at most {MAX_RECORD_DAYS} days"
    elif messages is not None and records <= messages:
        errors["record_days"] = (
            f"Keep tasks and the audit log for longer than message texts ({messages} days), "
            "so the record of what was done outlasts the words"
        )
    if errors:
        raise PrivacyError(errors)
    assert messages is not None and records is not None
    return messages, records


async def save_retention(
    session: AsyncSession,
    settings: Settings,
    message_text: str,
    record_text: str,
    *,
    now: datetime,
    actor: str,
) -> list[str]:
    """Store the periods the next purge uses; returns the keys that changed."""
    messages, records = check_retention(
        message_text, record_text, silence_days=settings.silence_days
    )
    current = await load_retention(session, settings)
    changed: list[str] = []
    for key, days, before in (
        (MESSAGE_RETENTION_KEY, messages, current.messages),
        (RECORD_RETENTION_KEY, records, current.records),
    ):
        if days == before.days and before.updated_at is not None:
            continue
        row = await session.get(OrgSetting, key)
        if row is None:
            session.add(OrgSetting(key=key, value={"days": days}, updated_at=now, updated_by=actor))
        else:
            row.value, row.updated_at, row.updated_by = {"days": days}, now, actor
        changed.append(key)
    if changed:
        audit.record(
            session,
            actor=actor,
            action="privacy.retention_set",
            entity="org_setting",
            entity_id=None,
            at=now,
            message_days=messages,
            record_days=records,
        )
    return changed


# ---------------------------------------------------------------------------------------
# The audit log

ACTION_WORDS: dict[str, str] = {
    "expert.created": "Added to Linkline",
    "expert.viewed": "Their record was looked at",
    "expert.paused": "Contact was paused",
    "expert.resumed": "Contact started again after a pause",
    "expert.consent_set": "Permission to use a way of contacting them was recorded",
    "expert.channels_set": "The ways of contacting them were changed",
    "expert.contact_level": "How often we keep in touch was changed",
    "expert.bank_holidays": "Whether we may contact them on bank holidays was changed",
    "expert.held": "Messages were held after a worrying reply",
    "expert.hold_lifted": "A person looked at a worrying reply and messages started again",
    "expert.exported": "A copy of everything held about them was downloaded",
    "expert.erased": "Their record was erased",
    "experts.exported": "The list of experts was downloaded",
    "experts.imported": "Experts were added from a spreadsheet",
    "engagement.created": "An engagement was created",
    "engagement.viewed": "An engagement was looked at",
    "engagement.published": "An engagement was published",
    "engagement.moved": "An engagement moved to a new time",
    "engagement.cancelled": "An engagement was cancelled",
    "engagement.outcomes": "What changed because of an engagement was recorded",
    "invitation.created": "Invited to an engagement",
    "invitation.answered": "An answer to an invitation was recorded",
    "invitation.attendance": "Whether someone came was recorded",
    "invitation.told_verbally": "Told about a cancellation in person or by phone",
    "telegram.link_created": "A Telegram link code was made",
    "telegram.linked": "A Telegram chat was linked",
    "telegram.link_refused": "A Telegram link was refused",
    "reply.viewed": "A reply was looked at",
    "reply.acknowledged": "A person read a reply",
    "task.viewed": "A task was looked at",
    "task.done": "A task was finished",
    "message.viewed": "A message was looked at",
    "pastoral.approved": "A keeping-in-touch message was approved",
    "plan.engagement_settings": "Contact plan timings for an engagement were changed",
    "plan.expert_settings": "Their own contact plan timings were changed",
    "plan.kind_settings": "Contact plan timings for a kind of engagement were changed",
    "letters.posted": "Letters were marked as posted",
    "privacy.retention_set": "How long records are kept was changed",
    "staff.created": "A staff account was created",
    "staff.viewed": "A staff account was looked at",
    "staff.role_changed": "A staff member's role was changed",
    "staff.password_set": "A new password was set",
    "staff.signed_in": "Signed in",
    "staff.sign_in_failed": "A sign-in failed (wrong password)",
    "staff.locked": "An account was locked after too many wrong passwords",
    "staff.unlocked": "An account was unlocked",
    "staff.closed": "A staff account was closed",
    "staff.work_handed_on": "A closed account's tasks and cover were handed on",
    "staff.cover_set": "Cover while away was set",
    "staff.alert_route_set": "Where urgent alerts go was changed",
    "staff.approve_pastoral": "Approving keeping-in-touch messages was switched on or off",
}

ENTITY_WORDS: dict[str, str] = {
    "expert": "Expert",
    "engagement": "Engagement",
    "message": "Message",
    "reply": "Reply",
    "task": "Task",
    "staff": "Staff account",
    "plan_setting": "Contact plan",
    "org_setting": "Organisation setting",
    "batch": "Letter batch",
}

_ACTION = re.compile(r"[a-z_]{1,40}\.[a-z_]{1,40}")
_ENTITY = re.compile(r"[a-z_]{1,40}")


def describe_action(action: str) -> str:
    """The action in plain words where we have them, else made readable."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    thing, _, verb = action.partition(".")
    return f"{ENTITY_WORDS.get(thing, thing.replace('_', ' ').capitalize())}: " + verb.replace(
        "_", " "
    )


def describe_entity(entity: str) -> str:
    return ENTITY_WORDS.get(entity, entity.replace("_", " ").capitalize())


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    action: str = ""
    entity: str = ""
    entity_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for links to other pages of the same results."""
        out = {"who": self.actor, "action": self.action, "entity": self.entity}
        if self.entity_id is not None:
            out["record_id"] = str(self.entity_id)
        for prefix, day in (("from", self.date_from), ("to", self.date_to)):
            if day is not None:
                out |= {
                    f"{prefix}-day": str(day.day),
                    f"{prefix}-month": str(day.month),
                    f"{prefix}-year": str(day.year),
                }
        return {k: v for k, v in out.items() if v}


def _date_parts(params: Mapping[str, str], prefix: str) -> tuple[date | None, str | None]:
    parts = [params.get(f"{prefix}-{p}", "").strip() for p in ("day", "month", "year")]
    if not any(parts):
        return None, None
    if not all(parts):
        return None, "Enter a full date, with day, month and year, such as 27 3 2026"
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None, "Enter the date in numbers, such as 27 3 2026"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), None
    except ValueError:
        return None, "Enter a real date, such as 27 3 2026"


def parse_audit_query(params: Mapping[str, str]) -> AuditQuery:
    """Read the filter form (a GET query); PrivacyError names each field that is wrong."""
    errors: dict[str, str] = {}
    actor = params.get("who", "").strip()
    if len(actor) > 120:
        errors["who"] = "Enter at most 120 characters of a name or email address"
    action = params.get("action", "").strip()
    if action and not _ACTION.fullmatch(action):
        errors["action"] = "Choose an action from the list"
    entity = params.get("entity", "").strip()
    if entity and not _ENTITY.fullmatch(entity):
        errors["entity"] = "Choose a type of record from the list"
    raw_id = params.get("record_id", "").strip()
    entity_id = None
    if raw_id:
        if raw_id.isdigit() and len(raw_id) <= 12:
            entity_id = int(raw_id)
        else:
            errors["record_id"] = "Enter the record number in digits, such as 42"
    date_from, problem = _date_parts(params, "from")
    if problem:
        errors["date_from"] = problem
    date_to, problem = _date_parts(params, "to")
    if problem:
        errors["date_to"] = problem
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = "The last day must be the same as or after the first day"
    raw_page = params.get("page", "1").strip()
    page = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) <= 6 else 1
    if errors:
        raise PrivacyError(errors)
    return AuditQuery(actor, action, entity, entity_id, date_from, date_to, max(page, 1))


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


async def search_audit(session: AsyncSession, query: AuditQuery) -> AuditPage:
    """Newest first, 50 to a page."""
    where: list[ColumnElement[bool]] = []
    if query.actor:
        escaped = query.actor.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(AuditEvent.actor).like(f"%{escaped}%", escape="\\"))
    if query.action:
        where.append(AuditEvent.action == query.action)
    if query.entity:
        where.append(AuditEvent.entity == query.entity)
    if query.entity_id is not None:
        where.append(AuditEvent.entity_id == query.entity_id)
    if query.date_from:
        where.append(AuditEvent.at >= _london_midnight(query.date_from))
    if query.date_to:
        where.append(AuditEvent.at < _london_midnight(query.date_to + timedelta(days=1)))
    total = int(await session.scalar(select(func.count(AuditEvent.id)).where(*where)) or 0)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(query.page, pages)
    events = await session.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    )
    return AuditPage(list(events), total, page, pages)


async def audit_choices(session: AsyncSession) -> tuple[list[str], list[str]]:
    """The actions and record types that occur, for the filter lists."""
    actions = await session.scalars(select(AuditEvent.action).distinct())
    entities = await session.scalars(select(AuditEvent.entity).distinct())
    return sorted(set(actions)), sorted(set(entities))


def audit_details(event: AuditEvent) -> str:
    """The event's extra facts (ids, field names, counts), in one short line."""
    parts = []
    for key, value in sorted((event.data or {}).items()):
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)[:300]


def _about_expert(expert_id: int) -> ColumnElement[bool]:
    """Audit events about one expert: their record, or their messages, replies and tasks,
    or an engagement event naming them."""
    return or_(
        and_(AuditEvent.entity == "expert", AuditEvent.entity_id == expert_id),
        and_(
            AuditEvent.entity == "message",
            AuditEvent.entity_id.in_(select(Message.id).where(Message.expert_id == expert_id)),
        ),
        and_(
            AuditEvent.entity == "reply",
            AuditEvent.entity_id.in_(select(Reply.id).where(Reply.expert_id == expert_id)),
        ),
        and_(
            AuditEvent.entity == "task",
            AuditEvent.entity_id.in_(select(Task.id).where(Task.expert_id == expert_id)),
        ),
        AuditEvent.data["expert_id"].as_integer() == expert_id,
    )


# ---------------------------------------------------------------------------------------
# Subject access: everything held about one expert

PURPOSE_WORDS = {
    "pre_brief": "Information before an engagement",
    "reminder": "Reminder",
    "check_in": "Checking in after an engagement",
    "de_brief": "De-brief after an engagement",
    "feedback": "You said, we did",
    "pastoral": "Keeping in touch",
    "cancellation": "Cancellation",
    "time_changed": "Change of time",
}
CHANNEL_WORDS = {
    "sms": "Text message",
    "telegram": "Telegram",
    "email": "Email",
    "letter": "Letter",
    "phone": "Phone call",
}
STATUS_WORDS = {
    "pending": "Waiting to be sent",
    "sending": "Being sent",
    "sent": "Sent",
    "delivered": "Delivered",
    "failed": "Could not be sent",
    "uncertain": "Not sure whether it was sent",
    "handed_to_person": "Passed to a person to make the contact",
    "suppressed": "Not sent",
    "cancelled": "Cancelled",
}
ANSWER_WORDS = {"pending": "No answer yet", "yes": "Yes", "no": "No", "maybe": "Maybe"}


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
    staff_names: dict[int, str] = field(default_factory=dict)


async def build_export(session: AsyncSession, expert: Expert, *, now: datetime) -> ExpertRecord:
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
                select(AuditEvent).where(_about_expert(eid)).order_by(AuditEvent.at, AuditEvent.id)
            )
        ),
        staff_names=staff,
    )


def _local(value: datetime | None) -> str:
    return value.astimezone(LONDON).strftime("%-d %B %Y, %H:%M") if value else ""


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
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


def _words(value: object, table: dict[str, str]) -> str:
    key = str(getattr(value, "value", value))
    return table.get(key, key.replace("_", " ").capitalize())


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
        purpose=lambda v: _words(v, PURPOSE_WORDS),
        channel=lambda v: _words(v, CHANNEL_WORDS) if v else "Any way",
        message_status=lambda v: _words(v, STATUS_WORDS),
        answer=lambda v: _words(v, ANSWER_WORDS),
        words=lambda v: _words(v, {}),
        window=_window,
        lines=_lines,
        action=describe_action,
        entity=describe_entity,
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
    session: AsyncSession, expert: Expert, *, now: datetime, actor: str
) -> Export:
    """Everything held about them as one readable file; the download is audited."""
    record = await build_export(session, expert, now=now)
    html = render_export(record)
    audit.record(
        session, actor=actor, action="expert.exported", entity="expert", entity_id=expert.id, at=now
    )
    return Export(export_filename(expert, now.astimezone(LONDON).date()), html)


# ---------------------------------------------------------------------------------------
# Erasure

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
    for event in await session.scalars(select(AuditEvent).where(_about_expert(eid))):
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
