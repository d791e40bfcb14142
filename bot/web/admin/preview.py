"""See exactly what a person will get, before it goes: one planned message rendered for one
channel, as the dispatcher would render it (same template, context and access needs).

A text shows its length and how many SMS segments it costs; an email shows its headers
and the text it carries; a letter shows its first page as a picture (and the PDF). Message
text is personal, so only the expert's own link worker (or their cover) sees it, as in
the delivery log; everyone else sees when and how it will go, not what it says.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.staff.access import NotFound
from bot.web.admin.areas import StaffWeb, area_routes
from bot.web.admin.pages import Page, Web
from bot.web.admin.planned import expected
from channels.base import OutgoingMessage, PermanentError
from channels.letter import LetterChannel, LetterConfig, render_letter_html, render_pdf
from channels.mail import EmailChannel, EmailConfig, single_address
from channels.sms import plain_text, segments
from scheduling.rules.router import Route, reachable
from scheduling.sending.outbox import load_message
from scheduling.sending.outgoing import build_outgoing
from scheduling.text.context import template_context
from scheduling.text.rendering import RenderError
from store.enums import Channel
from store.models import Expert, Message

router = APIRouter()
# Channels a machine writes on; a phone call shows the script the caller reads.
_WRITTEN = (Channel.SMS, Channel.TELEGRAM, Channel.EMAIL, Channel.LETTER)


@dataclass(frozen=True)
class Preview:
    """One message, rendered for one channel; ``problem`` when it could not be written."""

    channel: Channel
    subject: str | None = None
    body: str = ""
    problem: str = ""
    characters: int = 0
    segments: int = 0
    encoding: str = ""
    email_from: str = ""
    email_to: str = ""
    calendar: bool = False


def may_read_text(page: Page, expert: Expert) -> bool:
    """The expert's own link worker, or whoever covers for them; not every administrator."""
    if page.viewer.id == expert.link_worker_id:
        return True
    return not page.scope.is_admin and page.scope.sees_worker(expert.link_worker_id)


async def _message(page: Page, message_id: int) -> Message:
    message = await load_message(page.session, message_id)
    if message is None or not page.scope.sees_worker(message.expert.link_worker_id):
        raise NotFound(f"message {message_id}")
    return message


def _channels(expert: Expert) -> list[Channel]:
    """The channels this person can be reached on, in their own order, then a call."""
    order = [c for c in expert.channel_order() if c in _WRITTEN]
    usable = [c for c in order if reachable(expert, c, hold_letters=False)]
    return [*usable, *([Channel.PHONE] if reachable(expert, Channel.PHONE) else [])]


def _outgoing(page: Page, message: Message, channel: Channel, at: datetime) -> OutgoingMessage:
    """What the channel would be handed, built the way the dispatcher builds it."""
    expert = message.expert
    consent = next((c for c in expert.consents if c.channel is channel), None)
    point = next((p for p in expert.contact_points if p.channel is channel), None)
    details = bool(consent and consent.details_safe)
    context = template_context(message, details, at)
    rendered = page.web.built.renderer.render(message.purpose, channel, context)
    route = Route(channel, point.value if point else "", details, "preview")
    return build_outgoing(message, route, rendered, (not expert.discreet) or details, at)


def preview_for(page: Page, message: Message, channel: Channel, at: datetime) -> Preview:
    try:
        out = _outgoing(page, message, channel, at)
    except RenderError as exc:
        return Preview(channel, problem=exc.plain)
    sender = page.web.built.channels.get(channel)
    limit = sender.limits.max_body_chars if sender is not None else None
    if limit is not None and len(out.body) > limit:
        return Preview(
            channel,
            problem=f"It is {len(out.body)} characters, more than the {limit} this channel "
            "takes, so it would go by their next channel instead. Shorten the template.",
        )
    preview = Preview(channel, out.subject, out.body, characters=len(out.body))
    if channel is Channel.SMS:
        text = plain_text(out.body)
        encoding, count = segments(text)
        return Preview(channel, None, text, characters=len(text), segments=count, encoding=encoding)
    if channel is Channel.EMAIL:
        email = EmailChannel(EmailConfig(host="preview.invalid", from_address=_sender(page)))
        try:
            built = email.build(out, single_address(out.to), at)
        except (PermanentError, ValueError):  # no subject, or no single address
            return Preview(channel, problem="This email could not be written: it has no subject.")
        plain = built.get_body(("plain",))
        return Preview(
            channel,
            str(built["Subject"]),
            plain.get_content().strip() if plain is not None else out.body,
            characters=len(out.body),
            email_from=str(built["From"]),
            email_to=str(built["To"]),
            calendar=out.calendar is not None,
        )
    return preview


def _sender(page: Page) -> str:
    return page.web.built.settings.smtp_from or "linkline@localhost"


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


def first_page_png(pdf: bytes, width: int = 600) -> bytes:
    """The letter's first page as a picture, ``width`` pixels wide."""
    import pypdfium2  # imported late: only a letter preview needs it

    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=width / page.get_width()).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()
    finally:
        document.close()


@router.get("/messages/{message_id}/preview", response_class=HTMLResponse)
async def preview_page(request: Request, web: StaffWeb, message_id: int) -> Response:
    async with web.page(request) as page:
        message = await _message(page, message_id)
        row = (await expected(page, [message])).get(message.expert_id, [None])[0]
        offered = _channels(message.expert)
        asked = request.query_params.get("channel", "")
        chosen = next((c for c in offered if c.value == asked), None)
        if chosen is None:
            chosen = row.channel if row and row.channel in offered else None
        chosen = chosen or (offered[0] if offered else None)
        at = row.goes_at if row and row.goes_at else page.now
        readable = may_read_text(page, message.expert)
        shown = preview_for(page, message, chosen, at) if chosen and readable else None
        return page.render(
            "messages/preview.html",
            message=message,
            row=row,
            offered=offered,
            chosen=chosen,
            shown=shown,
            readable=readable,
        )


async def _letter_pdf(page: Page, message: Message) -> bytes:
    row = (await expected(page, [message])).get(message.expert_id, [None])[0]
    at = row.goes_at if row and row.goes_at else page.now
    try:
        out = _outgoing(page, message, Channel.LETTER, at)
    except RenderError as exc:
        raise NotFound(f"letter for message {message.id}") from exc
    config = _letter_config(page)
    html = render_letter_html(out, config, at.astimezone(config.zone).date())
    pdf, _pages = await asyncio.to_thread(render_pdf, html)
    return pdf


async def _readable_letter(page: Page, message_id: int) -> Message:
    message = await _message(page, message_id)
    if not may_read_text(page, message.expert) or Channel.LETTER not in _channels(message.expert):
        raise NotFound(f"letter for message {message_id}")
    return message


_PRIVATE = {"Cache-Control": "no-store"}


@router.get("/messages/{message_id}/preview/letter.png")
async def letter_png(request: Request, web: StaffWeb, message_id: int) -> Response:
    async with web.page(request) as page:
        pdf = await _letter_pdf(page, await _readable_letter(page, message_id))
        png = await asyncio.to_thread(first_page_png, pdf)
        return Response(png, media_type="image/png", headers=_PRIVATE)


@router.get("/messages/{message_id}/preview/letter.pdf")
async def letter_pdf(request: Request, web: StaffWeb, message_id: int) -> Response:
    async with web.page(request) as page:
        pdf = await _letter_pdf(page, await _readable_letter(page, message_id))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**_PRIVATE, "Content-Disposition": "inline; filename=letter-preview.pdf"},
        )


def routes(web: Web) -> APIRouter:
    return area_routes(web, router)
