"""What the engagement pages share: the app's `Web`, loading an engagement a person may
see, the engagement page itself, and showing it again with why an action cannot happen.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.services.engagements import plans as plan_service
from bot.services.engagements.call_sheet import CallRow, call_rows, told_notes
from bot.services.engagements.cancellations import (
    cancellation_calls,
    cancellation_notified,
)
from bot.services.engagements.lifecycle import get_engagement
from bot.services.engagements.queries import planned_messages
from bot.services.engagements.rules import missing_information
from bot.services.staff.access import NotFound, engagement_in_scope, engagement_to_change
from bot.web.admin.engagements.forms import DETAIL_LABELS, MISSING_LABELS, sentence
from bot.web.admin.pages import Errors, Page
from bot.web.admin.planned import expected
from scheduling.rules.plan import PlanOffsets
from scheduling.rules.reach import reach_of
from scheduling.rules.too_soon import too_soon
from scheduling.text.words import PLAN_PURPOSES, label
from store.enums import EngagementStatus
from store.models import Engagement, Expert, Invitation

# The one table of how statuses, answers, purposes and channels read (`words.py`), for
# the templates' macros (imported "with context").
WORDS: dict[str, Any] = {"label": label, "plan_purposes": PLAN_PURPOSES}


# --- loading ------------------------------------------------------------------------------


async def load_engagement(page: Page, engagement_id: int) -> Engagement:
    """The engagement with everyone invited, or 404 when it is not theirs to see."""
    await engagement_in_scope(page.session, page.scope, engagement_id)
    return await get_engagement(page.session, engagement_id)


async def load_engagement_to_change(page: Page, engagement_id: int) -> Engagement:
    """The engagement with everyone invited, or 404 unless this person may change it (its
    lead, their cover, an administrator): seeing it is not enough."""
    await engagement_to_change(page.session, page.scope, engagement_id)
    return await get_engagement(page.session, engagement_id)


def invitation_of(engagement: Engagement, invitation_id: int) -> Invitation:
    for invitation in engagement.invitations:
        if invitation.id == invitation_id:
            return invitation
    raise NotFound(f"invitation {invitation_id}")


def own_invitation(page: Page, engagement: Engagement, invitation_id: int) -> Invitation:
    """An invitation whose expert is in this person's caseload (or one they cover): answers
    can hold health details, and only the expert's own worker acts for them."""
    invitation = invitation_of(engagement, invitation_id)
    if not page.scope.may_change_expert(invitation.expert):
        raise NotFound(f"invitation {invitation_id}")
    return invitation


def planned(added: int) -> str:
    if added == 0:
        return "Nobody is invited yet, so no messages are planned."
    return f"{added} message{'s' if added != 1 else ''} planned."


# --- the engagement page ------------------------------------------------------------------


async def _too_soon(page: Page, engagement: Engagement, offsets: PlanOffsets) -> list[str]:
    """For a draft: what of its plan cannot happen if it is published now, said beside
    the Publish button so the link worker knows before they press it."""
    if engagement.status is not EngagementStatus.DRAFT:
        return []
    invited = await page.session.scalars(
        select(Expert)
        .where(Expert.id.in_([i.expert_id for i in engagement.invitations]))
        .options(selectinload(Expert.consents), selectinload(Expert.contact_points))
    )
    by_post = [e.preferred_name for e in invited if reach_of(e).post_only]
    return too_soon(
        engagement.starts_at, engagement.ends_at, engagement.time_zone, offsets, page.now, by_post
    )


async def refused(page: Page, engagement: Engagement, reason: str) -> Response:
    """The engagement page again, with why the action cannot happen, and nothing saved."""
    page.refused = True
    return await show_engagement(
        page, engagement, problems=[{"text": sentence(reason), "href": "#actions"}]
    )


async def show_engagement(
    page: Page,
    engagement: Engagement,
    *,
    errors: Errors | None = None,
    problems: list[dict[str, str]] | None = None,
    problems_title: str = "There is a problem",
) -> Response:
    """Everything about one engagement a person may see, and what they can do next."""
    db, scope = page.session, page.scope
    page.viewed("engagement", engagement.id)
    visible = [i for i in engagement.invitations if scope.sees_worker(i.expert.link_worker_id)]
    outbox = await planned_messages(db, engagement.id, [i.expert_id for i in visible])
    plan = await expected(page, [m for rows in outbox.values() for m in rows])
    calls = None
    call_sheet: dict[int, CallRow] = {}
    notes: dict[int, str] = {}
    if engagement.status is EngagementStatus.CANCELLED:
        calls = await cancellation_calls(db, engagement)
        theirs = [i for i in calls.still_to_phone if scope.sees_worker(i.expert.link_worker_id)]
        call_sheet = await call_rows(db, engagement, theirs, page.now)
        notes = await told_notes(db, engagement)
    effective = await plan_service.for_engagement(db, engagement, page.web.built.offsets)
    soon = await _too_soon(page, engagement, effective.offsets)
    told_by_message = []
    if calls is not None:
        notified = await cancellation_notified(db, engagement.id)
        waiting = {i.id for i in calls.still_to_phone}
        told_by_message = [
            i
            for i in engagement.invitations
            if i.expert_id in notified and i.id not in waiting and i.told_verbally_at is None
        ]
    return page.render(
        "engagements/show.html",
        status=400 if problems else 200,
        errors=errors,
        values=page.form if errors else dict(engagement.plan_overrides or {}),
        engagement=engagement,
        now=page.now,
        missing=missing_information(engagement),
        missing_labels=MISSING_LABELS,
        detail_labels=DETAIL_LABELS,
        visible_ids={i.id for i in visible},
        may_change=scope.may_change_engagement(engagement),
        plan=plan,
        calls=calls,
        call_sheet=call_sheet,
        told_notes=notes,
        told_by_message=told_by_message,
        effective=effective,
        too_soon=soon,
        setting_names=plan_service.SETTING_NAMES,
        problems=problems,
        problems_title=problems_title,
        started=engagement.starts_at <= page.now,
        ended=engagement.ends_at <= page.now,
        **WORDS,
    )
