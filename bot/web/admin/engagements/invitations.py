"""Inviting people to an engagement, and recording an answer someone gave by phone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.engagements import lifecycle as service
from bot.services.engagements.queries import invitable_experts
from bot.services.engagements.rules import may_invite
from bot.web.admin.areas import StaffWeb
from bot.web.admin.engagements.common import (
    load_engagement,
    load_engagement_to_change,
    own_invitation,
    planned,
    refused,
)
from bot.web.admin.engagements.forms import SUPPORT_NEEDS_MAX, refused_fields
from bot.web.admin.pages import Errors
from store.enums import EngagementStatus, InvitationAnswer
from store.errors import Refused

router = APIRouter()

# What the banner says after an answer, by answer.
_SAID = {
    "yes": "yes. Their messages are planned",
    "no": "no. Nothing more will be sent to them about it, and they will not be chased",
    "maybe": "maybe. Their messages stay planned",
}


@router.get("/engagements/{engagement_id}/invite", response_class=HTMLResponse)
async def invite_page(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        if (refusal := may_invite(engagement)) is not None:
            return await refused(page, engagement, refusal)
        return page.render(
            "engagements/invite.html",
            engagement=engagement,
            experts=await invitable_experts(page.session, engagement, page.scope.experts()),
            values={},
        )


@router.post("/engagements/{engagement_id}/invite")
async def invite(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := may_invite(engagement)) is not None:
            return await refused(page, engagement, refusal)
        experts = await invitable_experts(page.session, engagement, page.scope.experts())
        by_id = {str(e.id): e for e in experts}
        chosen = page.fields("experts")
        errors: Errors = {}
        if not chosen:
            errors["experts"] = "Choose at least one person to invite"
        elif any(key not in by_id for key in chosen):
            errors["experts"] = "Choose people from the list"
        if not errors:
            people = [by_id[key] for key in dict.fromkeys(chosen)]
            try:
                report = await service.invite(
                    page.session,
                    engagement,
                    people,
                    page.web.built.offsets,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                errors = refused_fields(exc, "experts")
        if errors:
            return page.render(
                "engagements/invite.html",
                errors=errors,
                engagement=engagement,
                experts=experts,
                values={"experts": chosen},
            )
        invited = "1 person" if len(people) == 1 else f"{len(people)} people"
        if engagement.status is EngagementStatus.PUBLISHED:
            after = planned(report.added)
        else:
            after = "Their messages will be planned when it is published."
        return page.redirect(f"/engagements/{engagement.id}", flash=f"Invited {invited}. {after}")


@router.get("/engagements/{engagement_id}/answers/{invitation_id}", response_class=HTMLResponse)
async def answer_page(
    request: Request, engagement_id: int, invitation_id: int, web: StaffWeb
) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        invitation = own_invitation(page, engagement, invitation_id)
        page.viewed("engagement", engagement.id, expert_id=invitation.expert_id)
        return page.render(
            "engagements/answer.html",
            engagement=engagement,
            invitation=invitation,
            values={
                "answer": ""
                if invitation.answer is InvitationAnswer.PENDING
                else invitation.answer.value,
                "support_needs": invitation.support_needs or "",
            },
        )


@router.post("/engagements/{engagement_id}/answers/{invitation_id}")
async def answer(
    request: Request, engagement_id: int, invitation_id: int, web: StaffWeb
) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        invitation = own_invitation(page, engagement, invitation_id)
        errors: Errors = {}
        chosen = page.field("answer")
        needs = page.field("support_needs")
        if chosen not in _SAID:
            errors["answer"] = "Choose yes, no or maybe"
        if len(needs) > SUPPORT_NEEDS_MAX:
            errors["support_needs"] = (
                f"Support needs must be {SUPPORT_NEEDS_MAX} characters or fewer"
            )
        if not errors:
            try:
                await service.record_answer(
                    page.session,
                    engagement,
                    invitation.expert_id,
                    InvitationAnswer(chosen),
                    page.web.built.offsets,
                    support_needs=needs or None,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                errors = refused_fields(exc, "answer")
        if errors:
            return page.render(
                "engagements/answer.html",
                errors=errors,
                engagement=engagement,
                invitation=invitation,
            )
        return page.redirect(
            f"/engagements/{engagement.id}",
            # The banner rides in the signed (not encrypted) cookie: no names in it.
            flash=f"Recorded that {invitation.expert.ref or 'they'} said {_SAID[chosen]}",
        )
