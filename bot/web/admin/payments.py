"""Payments: an engagement's offer and what each person is owed, an expert's payment choice
and their record, and the administrators' list of everything owed, oldest first.

Approving, paying and declining are for administrators; recording a claim or an offer is
for whoever may change the engagement; a payment choice, for whoever may change the
expert. Every step goes through the same services as `linkline payments`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.payments import claims
from bot.services.staff.access import NotFound
from bot.web.admin.areas import StaffWeb, area_routes
from bot.web.admin.engagements.common import load_engagement, load_engagement_to_change
from bot.web.admin.experts.shared import expert_page
from bot.web.admin.pages import Page, Web
from scheduling.people import ledger
from scheduling.people.offers import offer_for
from scheduling.planning.payment_notices import pay
from scheduling.rules.payments import PaymentChoice, pounds
from scheduling.text.words import label
from store.enums import EXPENSES, OfferKind, PaymentMethod, PaymentPurpose, PaymentStatus
from store.errors import Refused
from store.models import Engagement, Expert, PaymentLine

router = APIRouter()
WORDS: dict[str, Any] = {
    "pounds": pounds,
    "label": label,
    "purposes": list(PaymentPurpose),
    "expenses": list(EXPENSES),
    "offer_kinds": list(OfferKind),
    "methods": list(PaymentMethod),
    "statuses": PaymentStatus,
}


def routes(web: Web) -> APIRouter:
    return area_routes(web, router)


async def _engagement_page(
    page: Page, engagement: Engagement, *, errors: dict[str, str] | None = None
) -> Response:
    visible = {
        i.id for i in engagement.invitations if page.scope.sees_worker(i.expert.link_worker_id)
    }
    lines = [
        line
        for line in await ledger.lines_for(page.session, engagement_id=engagement.id)
        if line.invitation_id in visible
    ]
    offer = await offer_for(page.session, engagement)
    return page.render(
        "payments/engagement.html",
        errors=errors,
        engagement=engagement,
        invitations=[i for i in engagement.invitations if i.id in visible],
        lines=lines,
        totals=ledger.totals(lines),
        offer=offer,
        offer_words=offer.sentences() or ["No payment for time, and no costs paid back."],
        may_change=page.scope.may_change_engagement(engagement),
        **WORDS,
    )


@router.get("/engagements/{engagement_id}/payments", response_class=HTMLResponse)
async def engagement_payments(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        page.viewed("engagement", engagement.id, part="payments")
        return await _engagement_page(page, engagement)


@router.post("/engagements/{engagement_id}/payments")
async def record_claim(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        try:
            invitation = next(
                (i for i in engagement.invitations if str(i.id) == page.field("invitation")),
                None,
            )
            if invitation is None:
                raise claims.PaymentError("Choose who it is for", field="invitation")
            line = await claims.record_claim(
                page.session,
                invitation,
                claims.parse_purpose(page.field("purpose") or "nothing chosen"),
                page.field("amount"),
                now=page.now,
                actor=page.actor,
                what_for=page.field("what_for"),
                receipt_seen=page.field("receipt") == "yes",
                reason=page.field("reason"),
            )
        except Refused as exc:
            return await _engagement_page(page, engagement, errors=page.refusal(exc, "amount"))
        return page.redirect(
            f"/engagements/{engagement.id}/payments",
            flash=f"{line.reference}: {pounds(line.amount_pence)} recorded as owed.",
        )


@router.post("/engagements/{engagement_id}/offer")
async def change_offer(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        try:
            offer = claims.parse_offer(
                page.field("offer_kind"),
                page.field("offer_amount"),
                ",".join(page.fields("covers")),
                page.field("limit"),
            )
            await claims.change_offer(
                page.session, engagement, offer, now=page.now, actor=page.actor
            )
        except Refused as exc:
            return await _engagement_page(
                page, engagement, errors=page.refusal(exc, "offer_amount")
            )
        return page.redirect(f"/engagements/{engagement.id}/payments", flash="Offer saved.")


async def expert_payments_page(
    page: Page, expert: Expert, *, errors: dict[str, str] | None = None
) -> Response:
    lines = await ledger.lines_for(page.session, expert_id=expert.id)
    return page.render(
        "payments/expert.html",
        errors=errors,
        expert=expert,
        choice=claims.choice_of(expert),
        lines=lines,
        totals=ledger.totals(lines),
        may_change=page.scope.may_change_expert(expert),
        statement_year=page.today.year,
        **WORDS,
    )


@router.get("/experts/{expert_id}/payments", response_class=HTMLResponse)
async def expert_payments(request: Request, expert_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        page.viewed("expert", expert.id, part="payments")
        return await expert_payments_page(page, expert)


@router.post("/experts/{expert_id}/payment-choice")
async def payment_choice(request: Request, expert_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        if not page.scope.may_change_expert(expert):
            raise NotFound(f"expert {expert_id}")
        try:
            method = claims.parse_method(page.field("method") or "nothing chosen")
            choice = PaymentChoice(
                method, page.field("voucher_kind")[:80], page.field("note")[:500]
            )
            await claims.set_choice(page.session, expert, choice, now=page.now, actor=page.actor)
        except Refused as exc:
            return await expert_payments_page(page, expert, errors=page.refusal(exc, "method"))
        return page.redirect(f"/experts/{expert.id}/payments", flash="Payment choice saved.")


@router.get("/admin/payments", response_class=HTMLResponse)
async def owed(request: Request, web: StaffWeb) -> Response:
    async with web.page(request, admin=True) as page:
        return await owed_page(page)


async def owed_page(page: Page, errors: dict[str, str] | None = None) -> Response:
    lines = await ledger.waiting_lines(page.session)
    return page.render(
        "payments/owed.html",
        errors=errors,
        lines=lines,
        totals=ledger.totals(lines),
        **WORDS,
    )


async def _line(page: Page, line_id: int) -> PaymentLine:
    try:
        return await ledger.find_line(page.session, line_id)
    except Refused:
        raise NotFound(f"payment {line_id}") from None


@router.post("/admin/payments/{line_id}/approve")
async def approve(request: Request, line_id: int, web: StaffWeb) -> Response:
    async with web.page(request, admin=True) as page:
        line = await _line(page, line_id)
        try:
            await ledger.approve(page.session, line, now=page.now, actor=page.actor)
        except Refused as exc:
            return await owed_page(page, page.refusal(exc, f"line-{line_id}"))
        return page.redirect("/admin/payments", flash=f"{line.reference} approved.")


@router.post("/admin/payments/{line_id}/paid")
async def paid(request: Request, line_id: int, web: StaffWeb) -> Response:
    async with web.page(request, admin=True) as page:
        line = await _line(page, line_id)
        try:
            await pay(page.session, line, now=page.now, actor=page.actor)
        except Refused as exc:
            return await owed_page(page, page.refusal(exc, f"line-{line_id}"))
        return page.redirect(
            "/admin/payments",
            flash=f"{line.reference} marked paid. They will be told it has been sent.",
        )


@router.post("/admin/payments/{line_id}/decline")
async def decline(request: Request, line_id: int, web: StaffWeb) -> Response:
    async with web.page(request, admin=True) as page:
        line = await _line(page, line_id)
        try:
            await ledger.decline(
                page.session, line, page.field("reason"), now=page.now, actor=page.actor
            )
        except Refused as exc:
            return await owed_page(page, page.refusal(exc, f"line-{line_id}"))
        return page.redirect(
            "/admin/payments",
            flash=f"{line.reference} declined. Their link worker has a task to explain it.",
        )
