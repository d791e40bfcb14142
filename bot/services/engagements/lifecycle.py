"""Engagements: create, publish, invite, record answers, move and cancel.

Each change re-plans the outbox in the same transaction, so the plan can never disagree
with the engagement it belongs to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.planning.plan_settings import check_engagement_overrides, normalise_kind
from scheduling.planning.planner import (
    PlanReport,
    cancel_engagement,
    load_engagement,
    move_engagement,
    plan_feedback,
    replan_engagement,
)
from scheduling.rules.plan import PlanError, PlanOffsets, check_engagement_times
from store import audit
from store.enums import EngagementStatus, ExpertStatus, InvitationAnswer
from store.errors import Refused
from store.models import Engagement, Expert, Invitation, Message, PlanSetting, Staff
from store.models.engagements import ADVANCE_INFORMATION_FIELDS


class EngagementError(Refused):
    """A refusal in words a person can act on; ``field`` names the detail at fault, if one
    is, so a form can show the message next to it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# Every detail a form or the CLI may set, besides the title and the times: the advance
# information, plus where it happens (an address, an online link, or both).
DETAIL_FIELDS = (*ADVANCE_INFORMATION_FIELDS, "venue_address", "online_link")
TITLE_MAX = 200
_SHORT_FIELDS = {"venue_name": 200, "online_link": 500}  # the columns' own lengths
DETAIL_MAX = 2000  # a long free-text detail is kinder split up, and fits every message


def check_online_link(link: str | None) -> str | None:
    """Why an online link is refused, or None: only https links, so nobody is sent to a
    page that can be read or changed on the way."""
    text = (link or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() != "https" or not parts.netloc or " " in text:
        return "the online link must be a full web address starting with https://"
    return None


def check_engagement(
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    details: Mapping[str, str | None],
    now: datetime,
    time_zone: str = "Europe/London",
) -> dict[str, str]:
    """Every problem with an engagement's title, times and details, by field (empty: fine).

    Shared by creating and editing, so a form can show them all at once and the CLI the
    first one; nothing is saved while any remain.
    """
    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = "an engagement needs a title"
    elif len(title.strip()) > TITLE_MAX:
        problems["title"] = f"the title is too long (at most {TITLE_MAX} characters)"
    if ends_at <= starts_at:
        problems["ends_at"] = "the engagement must end after it starts: check the end time"
    else:
        try:
            check_engagement_times(starts_at, ends_at, time_zone)
        except PlanError as exc:
            problems["ends_at"] = str(exc)
    if starts_at <= now:
        problems["starts_at"] = "the engagement starts in the past: check the date"
    for name, value in details.items():
        text = (value or "").strip() if isinstance(value, str) else ""
        limit = _SHORT_FIELDS.get(name, DETAIL_MAX)
        if len(text) > limit:
            problems[name] = f"this is too long: keep it under {limit} characters"
    link_problem = check_online_link(details.get("online_link"))
    if link_problem and "online_link" not in problems:
        problems["online_link"] = link_problem
    return problems


def _refuse_problems(problems: Mapping[str, str]) -> None:
    for name, message in problems.items():
        raise EngagementError(message, field=name)


def _cleaned(details: Mapping[str, str | None]) -> dict[str, str | None]:
    return {
        k: (v.strip() if isinstance(v, str) and v.strip() else None) for k, v in details.items()
    }


def local_moment(day: date, at: time, time_zone: str = "Europe/London") -> datetime:
    """A date and clock time as people in ``time_zone`` read them, in UTC; refuses a time
    the clocks skip, and one they pass twice (which of the two would be a guess)."""
    zone = ZoneInfo(time_zone)
    wall = datetime.combine(day, at)
    first, second = wall.replace(tzinfo=zone), wall.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise EngagementError(f"{at:%H:%M} does not exist on that day: the clocks go forward")
    if first.utcoffset() != second.utcoffset():
        raise EngagementError(
            f"{at:%H:%M} happens twice on that day, when the clocks go back: choose another time"
        )
    return first.astimezone(UTC)


async def create_engagement(
    session: AsyncSession,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    lead: Staff,
    details: Mapping[str, str | None],
    plan_overrides: Mapping[str, object] | None,
    base_offsets: PlanOffsets,
    time_zone: str,
    now: datetime,
    actor: str,
    kind: str = "meeting",
) -> Engagement:
    _refuse_problems(
        check_engagement(
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            details=details,
            now=now,
            time_zone=time_zone,
        )
    )
    overrides = dict(plan_overrides or {})
    kind = normalise_kind(kind)
    # Refuse contradictory settings when saved, together with its kind's settings.
    await check_engagement_overrides(session, kind, overrides, base_offsets)
    engagement = Engagement(
        kind=kind,
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        lead_id=lead.id,
        plan_overrides=overrides,
        created_at=now,
        updated_at=now,
        **_cleaned(details),
    )
    session.add(engagement)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="engagement.created",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
    )
    # Loaded with its invitations and lead, so it can be published or invited to at once.
    return await get_engagement(session, engagement.id)


async def get_engagement(session: AsyncSession, engagement_id: int) -> Engagement:
    engagement = await load_engagement(session, engagement_id)
    if engagement is None:
        raise EngagementError(f"no engagement with id {engagement_id}")
    return engagement


async def update_draft(
    session: AsyncSession,
    engagement: Engagement,
    *,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    details: Mapping[str, str | None],
    base_offsets: PlanOffsets,
    now: datetime,
    actor: str,
) -> Engagement:
    """Change a draft's title, kind, times or details. Nobody has been told of a draft, so
    nothing is re-planned; once published, a new time goes through `move`, which tells
    people."""
    if engagement.status is not EngagementStatus.DRAFT:
        raise EngagementError(_not_draft(engagement, "its details can no longer be edited"))
    _refuse_problems(
        check_engagement(
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            details=details,
            now=now,
            time_zone=engagement.time_zone,
        )
    )
    kind = normalise_kind(kind)
    await check_engagement_overrides(
        session, kind, dict(engagement.plan_overrides or {}), base_offsets
    )
    engagement.title, engagement.kind = title.strip(), kind
    engagement.starts_at, engagement.ends_at = starts_at, ends_at
    for name, value in _cleaned(details).items():
        setattr(engagement, name, value)
    engagement.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="engagement.edited",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
    )
    return engagement


def _not_draft(engagement: Engagement, what: str) -> str:
    if engagement.status is EngagementStatus.CANCELLED:
        return f"engagement {engagement.id} was cancelled, so {what}"
    if engagement.status is EngagementStatus.COMPLETED:
        return f"engagement {engagement.id} has finished, so {what}"
    return f"engagement {engagement.id} is already published, so {what}"


async def publish(
    session: AsyncSession,
    engagement: Engagement,
    offsets: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> PlanReport:
    if engagement.status is not EngagementStatus.DRAFT:
        raise EngagementError(_not_draft(engagement, "it cannot be published"))
    missing = engagement.missing_information()
    if missing:
        raise EngagementError(
            "people must be told these before it can be published: " + ", ".join(missing)
        )
    engagement.status = EngagementStatus.PUBLISHED
    engagement.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="engagement.published",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
    )
    return await replan_engagement(session, engagement, offsets, now)


async def invite(
    session: AsyncSession,
    engagement: Engagement,
    experts: Sequence[Expert],
    offsets: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> PlanReport:
    if engagement.status is EngagementStatus.CANCELLED:
        raise EngagementError(
            f"engagement {engagement.id} was cancelled, so nobody more can be invited"
        )
    if engagement.status is EngagementStatus.COMPLETED:
        raise EngagementError(
            f"engagement {engagement.id} has finished, so nobody more can be invited"
        )
    invited = {i.expert_id for i in engagement.invitations}
    for expert in experts:
        if expert.id in invited:
            continue
        session.add(Invitation(engagement_id=engagement.id, expert_id=expert.id, created_at=now))
        audit.record(
            session,
            actor=actor,
            action="invitation.created",
            entity="engagement",
            entity_id=engagement.id,
            expert_id=expert.id,
            at=now,
        )
    await session.flush()
    session.expire(engagement, ["invitations"])
    engagement = await get_engagement(session, engagement.id)
    return await replan_engagement(session, engagement, offsets, now)


async def record_answer(
    session: AsyncSession,
    engagement: Engagement,
    expert_id: int,
    answer: InvitationAnswer,
    offsets: PlanOffsets,
    *,
    support_needs: str | None = None,
    now: datetime,
    actor: str,
) -> PlanReport:
    if engagement.status is EngagementStatus.CANCELLED:
        raise EngagementError(
            f"engagement {engagement.id} was cancelled, so there is nothing to answer"
        )
    invitation = next((i for i in engagement.invitations if i.expert_id == expert_id), None)
    if invitation is None:
        raise EngagementError(f"expert {expert_id} is not invited to engagement {engagement.id}")
    invitation.answer = answer
    invitation.answered_at = now
    if support_needs:
        invitation.support_needs = support_needs
    audit.record(
        session,
        actor=actor,
        action="invitation.answered",
        entity="engagement",
        entity_id=engagement.id,
        expert_id=expert_id,
        at=now,
    )
    return await replan_engagement(session, engagement, offsets, now)


async def move(
    session: AsyncSession,
    engagement: Engagement,
    starts_at: datetime,
    ends_at: datetime,
    offsets: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> PlanReport:
    if engagement.status is EngagementStatus.CANCELLED:
        raise EngagementError(f"engagement {engagement.id} was cancelled, so it cannot be moved")
    problems = check_engagement(
        title=engagement.title,
        starts_at=starts_at,
        ends_at=ends_at,
        details={},
        now=now,
        time_zone=engagement.time_zone,
    )
    if "starts_at" in problems:
        problems["starts_at"] = "the new start is in the past: check the date"
    _refuse_problems(problems)
    audit.record(
        session,
        actor=actor,
        action="engagement.moved",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
    )
    return await move_engagement(session, engagement, starts_at, ends_at, offsets, now)


async def cancel(
    session: AsyncSession, engagement: Engagement, reason: str, *, now: datetime, actor: str
) -> PlanReport:
    if engagement.status is EngagementStatus.CANCELLED:
        raise EngagementError(f"engagement {engagement.id} is already cancelled")
    if engagement.ends_at <= now:
        raise EngagementError(f"engagement {engagement.id} has already happened")
    audit.record(
        session,
        actor=actor,
        action="engagement.cancelled",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
    )
    return await cancel_engagement(session, engagement, reason, now)


async def list_engagements(
    session: AsyncSession, where: ColumnElement[bool] | None = None
) -> list[Engagement]:
    """Soonest first; ``where`` narrows it (the web pages pass what a person may see)."""
    query = select(Engagement).where(where if where is not None else true())
    return list(await session.scalars(query.order_by(Engagement.starts_at, Engagement.id)))


async def answer_counts(
    session: AsyncSession, engagement_ids: Sequence[int]
) -> dict[int, Counter[InvitationAnswer]]:
    """How many were invited to each engagement, by answer, in one query."""
    counts: dict[int, Counter[InvitationAnswer]] = {i: Counter() for i in engagement_ids}
    if not engagement_ids:
        return counts
    rows = await session.execute(
        select(Invitation.engagement_id, Invitation.answer, func.count(Invitation.id))
        .where(Invitation.engagement_id.in_(engagement_ids))
        .group_by(Invitation.engagement_id, Invitation.answer)
    )
    for engagement_id, answer, count in rows:
        counts[engagement_id][answer] = count
    return counts


async def known_kinds(session: AsyncSession) -> list[str]:
    """The kinds with their own contact-plan settings, and "meeting", the default."""
    names = set(await session.scalars(select(PlanSetting.kind)))
    return sorted(names | {"meeting"})


async def invitable_experts(
    session: AsyncSession, engagement: Engagement, where: ColumnElement[bool]
) -> list[Expert]:
    """Experts matching ``where`` (those a person may see) who could still be invited:
    not invited already, and not withdrawn."""
    invited = {i.expert_id for i in engagement.invitations}
    rows = await session.scalars(
        select(Expert).where(where, Expert.status != ExpertStatus.WITHDRAWN).order_by(Expert.id)
    )
    return sorted(
        (e for e in rows if e.id not in invited),
        key=lambda e: (e.preferred_name.casefold(), e.ref or "", e.id),
    )


async def planned_messages(
    session: AsyncSession, engagement_id: int, expert_ids: Sequence[int]
) -> dict[int, list[Message]]:
    """The outbox for this engagement, by expert and due time: what goes out, and when."""
    plan: dict[int, list[Message]] = {i: [] for i in expert_ids}
    if not expert_ids:
        return plan
    rows = await session.scalars(
        select(Message)
        .where(Message.engagement_id == engagement_id, Message.expert_id.in_(expert_ids))
        .order_by(Message.due_at, Message.id)
    )
    for message in rows:
        plan[message.expert_id].append(message)
    return plan


OUTCOMES_MAX = 1000


async def record_outcomes(
    session: AsyncSession, engagement: Engagement, text: str, *, now: datetime, actor: str
) -> PlanReport:
    """Record what changed because of what people said, and plan "you said, we did"
    for everyone who came (once each: a correction before it goes is sent as corrected)."""
    cleaned = text.strip()
    if not cleaned:
        raise EngagementError("write what changed: the outcomes are empty")
    if len(cleaned) > OUTCOMES_MAX:
        raise EngagementError(
            f"the outcomes are {len(cleaned)} characters; keep them under {OUTCOMES_MAX} "
            "(a short, plain summary reads best)"
        )
    if engagement.status is EngagementStatus.CANCELLED:
        raise EngagementError("this engagement was cancelled: there are no outcomes to share")
    if engagement.status is EngagementStatus.DRAFT:
        raise EngagementError("this engagement was never published: nobody took part")
    if engagement.ends_at > now:
        raise EngagementError("this engagement has not finished yet: record outcomes afterwards")
    engagement.outcomes, engagement.outcomes_recorded_at = cleaned, now
    engagement.updated_at = now
    report = await plan_feedback(session, engagement, now)
    audit.record(
        session,
        actor=actor,
        action="engagement.outcomes",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
        feedback_planned=report.added,
    )
    return report
