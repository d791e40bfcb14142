"""Engagements: create, publish, invite, record answers, move and cancel.

Each change re-plans the outbox in the same transaction, so the plan can never disagree
with the engagement it belongs to. Whether a change may happen at all is asked of
`rules`, the same answer the pages and the CLI get.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.engagements.rules import (
    EngagementError,
    check_engagement,
    may_answer,
    may_cancel,
    may_edit,
    may_invite,
    may_move,
    may_publish,
    may_record_outcomes,
    missing_information,
    refuse,
    refuse_problems,
)
from scheduling.people.offers import settle_offer
from scheduling.planning.engagement_changes import cancel_engagement, move_engagement, plan_feedback
from scheduling.planning.plan_settings import check_engagement_overrides, normalise_kind
from scheduling.planning.planner import PlanReport, load_engagement, replan_engagement
from scheduling.rules.plan import PlanOffsets
from store import audit
from store.enums import EngagementStatus, InvitationAnswer
from store.models import Engagement, Expert, Invitation, Staff


def _cleaned(details: Mapping[str, str | None]) -> dict[str, str | None]:
    return {
        k: (v.strip() if isinstance(v, str) and v.strip() else None) for k, v in details.items()
    }


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
    refuse_problems(
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
    refuse(may_edit(engagement))
    refuse_problems(
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


async def publish(
    session: AsyncSession,
    engagement: Engagement,
    offsets: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> PlanReport:
    refuse(may_publish(engagement))
    missing = missing_information(engagement)
    if missing:
        raise EngagementError(
            "people must be told these before it can be published: " + ", ".join(missing)
        )
    await settle_offer(session, engagement)
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
    refuse(may_invite(engagement))
    invited = {i.expert_id for i in engagement.invitations}
    new = list({e.id: e for e in experts if e.id not in invited}.values())
    if new:  # one multi-row INSERT, not one ORM object (and SQLite round trip) each
        rows = [{"engagement_id": engagement.id, "expert_id": e.id, "created_at": now} for e in new]
        await session.execute(insert(Invitation), rows)
    for expert in new:
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
    refuse(may_answer(engagement))
    invitation = next((i for i in engagement.invitations if i.expert_id == expert_id), None)
    if invitation is None:
        raise EngagementError(f"expert {expert_id} is not invited to engagement {engagement.id}")
    invitation.answer = answer
    invitation.answered_at = now
    if support_needs:
        invitation.support_needs = support_needs
    _noted(session, engagement, expert_id, now, actor)
    # Only their answer changed, so only their part of the plan can.
    return await replan_engagement(session, engagement, offsets, now, only=expert_id)


def answer_again(
    session: AsyncSession,
    engagement: Engagement,
    invitation: Invitation,
    answer: InvitationAnswer,
    *,
    now: datetime,
    actor: str,
) -> bool:
    """The answer they had already given, given again ("yes" twice): noted as
    ``record_answer`` notes one (when, and in the audit), without re-planning, since
    nothing the plan is built from changed. False, with nothing done, when the answer is
    a different one or may not be given: that one is for ``record_answer``."""
    if may_answer(engagement) is not None or invitation.answer is not answer:
        return False
    invitation.answered_at = now
    _noted(session, engagement, invitation.expert_id, now, actor)
    return True


def _noted(
    session: AsyncSession, engagement: Engagement, expert_id: int, now: datetime, actor: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action="invitation.answered",
        entity="engagement",
        entity_id=engagement.id,
        expert_id=expert_id,
        at=now,
    )


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
    refuse(may_move(engagement))
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
    refuse_problems(problems)
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
    refuse(may_cancel(engagement, now))
    audit.record(
        session,
        actor=actor,
        action="engagement.cancelled",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
    )
    return await cancel_engagement(session, engagement, reason, now)


OUTCOMES_MAX = 1000


async def record_outcomes(
    session: AsyncSession, engagement: Engagement, text: str, *, now: datetime, actor: str
) -> PlanReport:
    """Record what changed because of what people said, and plan "you said, we did"
    for everyone who came (once each: a correction before it goes is sent as corrected)."""
    refuse(may_record_outcomes(engagement, now))
    cleaned = text.strip()
    if not cleaned:
        raise EngagementError("write what changed: the outcomes are empty")
    if len(cleaned) > OUTCOMES_MAX:
        raise EngagementError(
            f"the outcomes are {len(cleaned)} characters; keep them under {OUTCOMES_MAX} "
            "(a short, plain summary reads best)"
        )
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
