"""New contact details for an expert: a phone number, email or postal address waits for
a colleague to confirm it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.experts import contact_changes as changes
from bot.services.experts.new_contact import Changed, change_contact_details
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.shared import change_rows, common, expert_page, label, posted
from bot.web.admin.pages import Page
from store.enums import Channel
from store.errors import Refused
from store.models import Expert

router = APIRouter()


async def _contact_page(
    page: Page, expert: Expert, errors: dict[str, str] | None = None
) -> HTMLResponse:
    waiting = await changes.waiting_changes(page.session, expert.id)
    return page.render(
        "experts/contact.html",
        errors=errors,
        values=posted(page) if errors else {},
        **common(
            expert=expert,
            label=label(expert),
            phone=changes.shown(Channel.SMS, changes.current_value(expert, Channel.SMS)),
            address=changes.current_value(expert, Channel.LETTER),
            email=changes.current_value(expert, Channel.EMAIL),
            waiting=await change_rows(page, waiting, expert),
        ),
    )


@router.get("/experts/{expert_id}/contact", response_class=HTMLResponse)
async def contact_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        page.viewed("expert", expert.id, page="contact")
        return await _contact_page(page, expert)


def _said(done: Changed) -> list[str]:
    """What the banner says about one detail taken."""
    if done.waits and done.channel is Channel.LETTER and not done.old_address_safe:
        lines = [
            "The new postal address waits for a colleague to confirm it; until then no "
            "letters are sent, and anything due by post goes another agreed way."
        ]
    else:
        what = changes.KIND_WORDS[done.channel]
        lines = [
            f"The new {what} waits for a colleague to confirm it; until then "
            "we keep using the one we had."
        ]
    if done.shared:
        lines.append(
            "Please check: another expert has this "
            f"{'email address' if done.channel is Channel.EMAIL else 'phone number'} too."
        )
    return lines


@router.post("/experts/{expert_id}/contact")
async def contact_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        asked = {
            Channel.SMS: page.field("phone"),
            Channel.LETTER: page.field("postal_address"),
            Channel.EMAIL: page.field("email"),
        }
        try:
            done = await change_contact_details(
                page.session,
                page.web.built.cipher,
                expert,
                page.viewer,
                asked,
                scope=page.scope,
                now=page.now,
                actor=page.actor,
                old_address_safe=page.field("old_address_safe") == "yes",
            )
        except Refused as exc:
            return await _contact_page(page, expert, exc.by_field("phone"))
        said = [line for item in done for line in _said(item)]
        return page.redirect(f"/experts/{expert.id}", flash="Thank you. " + " ".join(said))
