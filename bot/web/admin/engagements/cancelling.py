"""Cancelling an engagement, with the 24-hour rule, and recording who was told in person
or by phone."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.engagements import lifecycle as service
from bot.services.engagements.cancellations import record_told, undo_told
from bot.services.engagements.rules import may_cancel, may_record_told
from bot.web.admin.areas import StaffWeb
from bot.web.admin.engagements.common import (
    load_engagement,
    load_engagement_to_change,
    own_invitation,
    refused,
)
from bot.web.admin.engagements.forms import REASON_MAX, refused_fields
from bot.web.admin.experts.shared import flash_name
from bot.web.admin.pages import Errors
from scheduling.rules.plan import CANCELLATION_NOTICE
from store.errors import Refused
from store.models import Engagement

router = APIRouter()

NOTE_MAX = 300  # a few words for the record, as a task's outcome


def _late(engagement: Engagement, now: datetime) -> bool:
    """Cancelled now, would people have less than the 24 hours' notice they are owed?"""
    return engagement.starts_at - now < CANCELLATION_NOTICE


@router.get("/engagements/{engagement_id}/cancel", response_class=HTMLResponse)
async def cancel_page(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        if (refusal := may_cancel(engagement, page.now)) is not None:
            return await refused(page, engagement, refusal)
        return page.render(
            "engagements/cancel.html",
            engagement=engagement,
            late=_late(engagement, page.now),
            values={},
        )


@router.post("/engagements/{engagement_id}/cancel")
async def cancel(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := may_cancel(engagement, page.now)) is not None:
            return await refused(page, engagement, refusal)
        reason = page.field("reason")
        errors: Errors = {}
        if not reason:
            errors["reason"] = "Say why it is cancelled"
        elif len(reason) > REASON_MAX:
            errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
        else:
            try:
                await service.cancel(
                    page.session, engagement, reason, now=page.now, actor=page.actor
                )
            except Refused as exc:
                errors = refused_fields(exc, "reason")
        if errors:
            return page.render(
                "engagements/cancel.html",
                errors=errors,
                engagement=engagement,
                late=_late(engagement, page.now),
            )
        return page.redirect(
            f"/engagements/{engagement.id}",
            flash="Cancelled. Everyone who was coming is being told",
        )


@router.post("/engagements/{engagement_id}/told/{invitation_id}")
async def told(request: Request, engagement_id: int, invitation_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        # Told by phone is about the expert: only their own worker (or cover) records it.
        invitation = own_invitation(page, engagement, invitation_id)
        if (refusal := may_record_told(engagement)) is not None:
            return await refused(page, engagement, refusal)
        note = page.field("note")
        if len(note) > NOTE_MAX:
            too_long = f"The note must be {NOTE_MAX} characters or fewer"
            return await refused(page, engagement, too_long)
        try:
            result = await record_told(
                page.session,
                engagement,
                invitation.expert,
                note=note or "Told by phone",
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            return await refused(page, engagement, exc.plain)
        name = flash_name(invitation.expert)  # the banner travels in the cookie: no names
        flash = f"Recorded that {name} was told by phone"
        if result.already_recorded:
            flash = f"{name} was already recorded as told"
        elif result.outcome.venue_task is not None:
            flash += ". Everyone who needed a call has been told: nobody needs to go to the venue"
        return page.redirect(f"/engagements/{engagement.id}#calls", flash=flash)


@router.post("/engagements/{engagement_id}/told/{invitation_id}/undo")
async def undo(request: Request, engagement_id: int, invitation_id: int, web: StaffWeb) -> Response:
    """Take back "told by phone" pressed by mistake: they go back on the call list."""
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        invitation = own_invitation(page, engagement, invitation_id)
        if (refusal := may_record_told(engagement)) is not None:
            return await refused(page, engagement, refusal)
        undone = await undo_told(
            page.session, engagement, invitation, now=page.now, actor=page.actor
        )
        name = flash_name(invitation.expert)
        flash = (
            f"{name} is back on the list of people to phone"
            if undone
            else f"{name} was not recorded as told"
        )
        return page.redirect(f"/engagements/{engagement.id}#calls", flash=flash)
