"""The audit log, searched: who looked at or changed which record, and when, in plain words.

The audit log records ids and field names only, never content or contact details, so it
can be kept for years and shown to administrators without showing anyone's words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.privacy.retention import PrivacyError
from store.models import AuditEvent, Message, Reply, Task

AUDIT_PAGE_SIZE = 50

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
    "gate.refused": "A message was held back by the safety checks",
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
    "message.written": "A member of staff wrote to them through Linkline",
    "conversation.viewed": "Their conversation with us was looked at",
    "note.added": "A staff note was added to their conversation",
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


def _midnight(day: date, tz: str) -> datetime:
    """The moment a calendar day starts in the organisation's zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    pages: int


async def search_audit(session: AsyncSession, query: AuditQuery, *, tz: str) -> AuditPage:
    """Newest first, 50 to a page; the dates are calendar days in ``tz``."""
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
        where.append(AuditEvent.at >= _midnight(query.date_from, tz))
    if query.date_to:
        where.append(AuditEvent.at < _midnight(query.date_to + timedelta(days=1), tz))
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


def about_expert(expert_id: int) -> ColumnElement[bool]:
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
