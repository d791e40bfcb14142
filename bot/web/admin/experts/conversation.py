"""The conversation with one expert: reading it, writing to them, and staff-only notes.

Writing is two steps, both plain forms: the preview (which channel and why, the lock
screen, the length in texts, any word that stops it, when it will really go), then
"Send it". Nothing is saved until then, and the send step checks everything again.
Only someone who may change this expert's record (their link worker, the cover while
they are away, an administrator) may write or add a note: for anyone else it is "not
found", like a record out of scope.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.delivery.written import (
    WRITABLE,
    Preview,
    Writer,
    preview,
    read_channel,
    send_written,
)
from bot.services.inbox.conversation import add_note, conversation, notes
from bot.services.staff.access import NotFound, reply_in_scope
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.shared import common, expert_page, flash_name, label
from bot.web.admin.pages import Page
from scheduling.rules.discreet_words import BlockedWords
from store.errors import Refused
from store.models import Expert, Reply

router = APIRouter()
MAX_ID = 2**31 - 1


@router.get("/experts/{expert_id}/conversation", response_class=HTMLResponse)
async def conversation_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        return await _conversation(page, expert)


@router.post("/experts/{expert_id}/notes")
async def note_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await _expert_to_change(page, expert_id)
        try:
            await add_note(
                page.session, expert, page.viewer, page.field("note"), page.now, actor=page.actor
            )
        except Refused as exc:
            return await _conversation(page, expert, errors=page.refusal(exc, "note"))
        return page.redirect(
            f"/experts/{expert.id}/conversation#notes",
            flash="Your note is kept for staff only. They never see it.",
        )


@router.get("/experts/{expert_id}/write", response_class=HTMLResponse)
async def write_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await _expert_to_change(page, expert_id)
        answering = await _answering(page, expert, request.query_params.get("reply", ""))
        values = {"reply": str(answering.id)} if answering is not None else {}
        return _form(page, expert, answering, values=values)


@router.post("/experts/{expert_id}/write")
async def preview_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    """The preview step: nothing is saved; "Change it" comes back here to edit."""
    async with web.page(request) as page:
        expert = await _expert_to_change(page, expert_id)
        answering = await _answering(page, expert, page.field("reply"))
        if page.field("change"):
            return _form(page, expert, answering, values=_posted(page))
        try:
            shown = preview(
                _writer(page),
                expert,
                page.field("text"),
                page.now,
                channel=read_channel(page.field("channel")),
                answering=answering,
            )
        except Refused as exc:
            return _form(page, expert, answering, errors=page.refusal(exc, "text"))
        return _preview_page(page, expert, answering, shown)


@router.post("/experts/{expert_id}/write/send")
async def send_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await _expert_to_change(page, expert_id)
        answering = await _answering(page, expert, page.field("reply"))
        try:
            _, shown = await send_written(
                page.session,
                _writer(page),
                expert,
                page.field("text"),
                page.viewer,
                page.now,
                token=page.field("token"),
                channel=read_channel(page.field("channel")),
                answering=answering,
                actor=page.actor,
            )
        except Refused as exc:
            return _form(page, expert, answering, errors=page.refusal(exc, "text"))
        return page.redirect(
            f"/experts/{expert.id}/conversation",
            flash=f"Your message to {flash_name(expert)} is in the outbox. {shown.goes_when}",
        )


async def _expert_to_change(page: Page, expert_id: int) -> Expert:
    """Seeing is not changing: writing is for those who may change their record."""
    expert = await expert_page(page, expert_id)
    if not page.scope.may_change_expert(expert):
        raise NotFound(f"expert {expert_id}")
    return expert


async def _answering(page: Page, expert: Expert, raw: str) -> Reply | None:
    """The reply being answered, if any: theirs, and one this person may read."""
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_ID:
        raise NotFound(f"reply {raw[:20]}")
    reply = await reply_in_scope(page.session, page.scope, int(raw))
    if reply.expert_id != expert.id:
        raise NotFound(f"reply {raw}")
    return reply


def _writer(page: Page) -> Writer:
    built = page.web.built
    return Writer(
        built.channels, built.renderer, BlockedWords.load(), built.settings.default_time_zone
    )


def _posted(page: Page) -> dict[str, str]:
    return {name: page.field(name) for name in ("text", "channel", "reply")}


def _context(expert: Expert, answering: Reply | None, **more: Any) -> dict[str, Any]:
    consented = {c.channel for c in expert.consents if c.allowed}
    return common(
        expert=expert,
        label=label(expert),
        answering=answering,
        choices=[c for c in expert.channel_order() if c in WRITABLE and c in consented],
        **more,
    )


def _form(
    page: Page,
    expert: Expert,
    answering: Reply | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return page.render(
        "experts/write.html",
        errors=errors,
        values=values if values is not None else _posted(page),
        **_context(expert, answering),
    )


def _preview_page(page: Page, expert: Expert, answering: Reply | None, shown: Preview) -> Response:
    return page.render(
        "experts/write_preview.html",
        values={
            "text": shown.words,
            "channel": shown.channel.value,
            "reply": str(answering.id) if answering is not None else "",
            "token": secrets.token_hex(8),
        },
        shown=shown,
        **_context(expert, answering),
    )


async def _conversation(
    page: Page, expert: Expert, errors: dict[str, str] | None = None
) -> HTMLResponse:
    turns = await conversation(page.session, expert)
    kept = await notes(page.session, expert.id)
    page.viewed("conversation", expert.id)
    return page.render(
        "experts/conversation.html",
        errors=errors,
        values={"note": page.field("note")} if errors else {},
        turns=turns,
        notes=kept,
        may_write=page.scope.may_change_expert(expert),
        **common(expert=expert, label=label(expert)),
    )
