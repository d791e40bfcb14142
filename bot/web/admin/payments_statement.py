"""An expert's yearly statement from their payments page: sent to them (only where
details are safe, through the one gate), or downloaded by staff as a PDF to hand over.

Sending is a change (their own worker, cover, an administrator); downloading is reading,
for anyone who may see their page, and is recorded like any look at personal data.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.services.payments import statement, statement_send
from bot.services.staff.access import NotFound
from bot.web.admin.areas import StaffWeb, area_routes
from bot.web.admin.experts.shared import expert_page
from bot.web.admin.pages import Page, Web
from bot.web.admin.payments import expert_payments_page
from channels.letter import LetterChannel, LetterConfig
from scheduling.rules.payments import PaymentError
from store.enums import Channel
from store.errors import Refused

router = APIRouter()


def routes(web: Web) -> APIRouter:
    return area_routes(web, router)


def _year(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise PaymentError("Enter a year, like 2026", field="year") from None


def _letter_config(page: Page) -> LetterConfig:
    channel = page.web.built.channels.get(Channel.LETTER)
    if isinstance(channel, LetterChannel):
        return channel.config
    settings = page.web.built.settings
    return LetterConfig(
        folder=settings.letters_dir,
        return_address=settings.letter_return_address,
        time_zone=settings.default_time_zone,
    )


@router.get("/experts/{expert_id}/statement.pdf")
async def download(request: Request, expert_id: int, web: StaffWeb, year: str = "") -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            made = await statement.yearly_statement(page.session, expert, _year(year))
        except Refused as exc:
            return await expert_payments_page(page, expert, errors=page.refusal(exc, "year"))
        page.viewed("expert", expert.id, part="statement", year=int(year))
        address = next(
            (p.value for p in expert.contact_points if p.channel is Channel.LETTER), None
        )
        pdf = await statement.statement_pdf(expert, address, made, _letter_config(page), page.today)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="statement-{int(year)}.pdf"',
            },
        )


@router.post("/experts/{expert_id}/statement")
async def send(request: Request, expert_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        if not page.scope.may_change_expert(expert):
            raise NotFound(f"expert {expert_id}")
        try:
            sent = await statement_send.send_statement(
                page.session, expert, _year(page.field("year")), now=page.now, actor=page.actor
            )
        except Refused as exc:
            return await expert_payments_page(page, expert, errors=page.refusal(exc, "year"))
        return page.redirect(f"/experts/{expert.id}/payments", flash=sent.sentence)
