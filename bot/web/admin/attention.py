"""Messages that need a person (failed, stuck, or possibly sent), and the two things an
administrator can do about each: try again, or cancel. The rules live in
`bot.services.delivery.attention` and `message_actions`; these routes only read the form and
show the answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.delivery.attention import Need, attention_for, needing_attention
from bot.services.delivery.message_actions import CANCEL_REASONS, cancel_message, retry_message
from bot.services.delivery.stats import channel_health
from bot.web.admin.pages import Page, Web
from scheduling.text.words import CHANNELS_FOR_STAFF
from store.enums import MessageStatus
from store.errors import Refused

CHECKED = "yes"
# What the cancel form is offered for; the service decides, and explains any refusal.
_CANCELLABLE = (MessageStatus.PENDING, MessageStatus.SENDING, MessageStatus.UNCERTAIN)


async def _show(page: Page, message_id: int, errors: dict[str, str] | None = None) -> Response:
    item = await attention_for(page.session, message_id, page.now)
    return page.render(
        "admin/attention_message.html",
        errors=errors,
        title=f"Message {message_id}: try again or cancel",
        item=item,
        may_have_been_sent=item.need is Need.MAY_HAVE_BEEN_SENT,
        can_cancel=item.message.status in _CANCELLABLE,
        essential=item.message.purpose.essential,
        box_ticked=CHECKED in page.fields("checked"),
        reasons=[
            {"value": key, "text": text, "checked": (page.field("reason") == key)}
            for key, text in CANCEL_REASONS.items()
        ],
    )


def routes(web: Web) -> APIRouter:
    router = APIRouter()
    tz = web.built.settings.default_time_zone

    @router.get("/admin/attention", response_class=HTMLResponse)
    async def attention(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            found = await needing_attention(page.session, page.now)
            groups = [(need, [a for a in found if a.need is need]) for need in Need]
            settings = page.web.built.settings
            health = await channel_health(
                page.session, page.now, settings.channel_modes(), settings.channel_failing_percent
            )
            return page.render(
                "admin/attention.html",
                total=len(found),
                failing=[h for h in health if h.failing],
                channel_words=CHANNELS_FOR_STAFF,
                groups=[(need, items) for need, items in groups if items],
            )

    @router.get("/admin/attention/{message_id:int}", response_class=HTMLResponse)
    async def one(request: Request, message_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            return await _show(page, message_id)

    @router.post("/admin/attention/{message_id:int}/retry", response_class=HTMLResponse)
    async def retry(request: Request, message_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            try:
                done = await retry_message(
                    page.session,
                    message_id,
                    checked=CHECKED in page.fields("checked"),
                    actor=page.actor,
                    now=page.now,
                    tz=tz,
                )
            except Refused as refused:
                return await _show(page, message_id, refused.by_field("retry"))
            if done.copy:
                text = (
                    f"Message {message_id} will be sent again, as message {done.message_id}, "
                    "within a few minutes."
                )
            else:
                text = f"Message {message_id} will be tried again within a few minutes."
            return page.redirect("/admin/attention", flash=text)

    @router.post("/admin/attention/{message_id:int}/cancel", response_class=HTMLResponse)
    async def cancel(request: Request, message_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            try:
                message = await cancel_message(
                    page.session,
                    message_id,
                    reason=page.field("reason"),
                    actor=page.actor,
                    now=page.now,
                )
            except Refused as refused:
                return await _show(page, message_id, refused.by_field("cancel"))
            if message.status is MessageStatus.HANDED_TO_PERSON:
                text = (
                    f"Message {message_id} will not be sent again. The task to check whether "
                    "it arrived stays open for their link worker."
                )
            else:
                text = f"Message {message_id} is cancelled: it will not be sent."
            return page.redirect("/admin/attention", flash=text)

    return router
