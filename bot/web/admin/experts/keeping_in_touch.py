"""Keeping in touch with an expert: how often, pausing and resuming contact, and the
one-time link that connects their Telegram."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.experts.pastoral import keep_in_touch
from bot.services.experts.profile import is_paused, pause_expert, resume_expert, status_words
from bot.services.experts.telegram_links import create_link
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.forms import FormError, pause_end, yes_or_no
from bot.web.admin.experts.shared import common, expert_page, label, posted
from bot.web.admin.pages import Page
from store.enums import Channel
from store.errors import Refused
from store.models import Expert

router = APIRouter()


@router.get("/experts/{expert_id}/pastoral", response_class=HTMLResponse)
async def pastoral_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        return page.render(
            "experts/pastoral.html",
            values={
                "level": expert.pastoral_level.value,
                "bank_holidays": "yes" if expert.contact_on_bank_holidays else "no",
            },
            **common(expert=expert, label=label(expert)),
        )


@router.post("/experts/{expert_id}/pastoral")
async def pastoral_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        errors: dict[str, str] = {}
        holidays: bool | None = None
        try:
            holidays = yes_or_no(page.field("bank_holidays"), "bank_holidays")
        except FormError as exc:  # said together with any problem with the level
            errors = exc.by_field("bank_holidays")
        try:
            withdrawn = await keep_in_touch(
                page.session,
                expert,
                page.field("level"),
                holidays,
                min_days=page.web.built.settings.pastoral_min_days,
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            errors = {**errors, **exc.by_field("level")}
        if errors:
            return page.render(
                "experts/pastoral.html",
                errors=errors,
                values=posted(page),
                **common(expert=expert, label=label(expert)),
            )
        note = (
            f" {withdrawn} planned keeping-in-touch message{'s' if withdrawn != 1 else ''} "
            "will not be sent."
            if withdrawn
            else ""
        )
        return page.redirect(f"/experts/{expert.id}", flash=f"Keeping in touch saved.{note}")


def _pause_page(page: Page, expert: Expert, errors: dict[str, str] | None = None) -> Response:
    return page.render(
        "experts/pause.html",
        errors=errors,
        values=posted(page) if errors else {},
        **common(
            expert=expert,
            label=label(expert),
            state=status_words(expert, page.now),
            paused=is_paused(expert, page.now),
        ),
    )


@router.get("/experts/{expert_id}/pause", response_class=HTMLResponse)
async def pause_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        return _pause_page(page, await expert_page(page, expert_id))


@router.post("/experts/{expert_id}/pause")
async def pause_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            if page.field("action") == "resume":
                await resume_expert(page.session, expert, now=page.now, actor=page.actor)
                return page.redirect(f"/experts/{expert.id}", flash="Contact has started again.")
            until = pause_end(
                page.field("pause_kind"),
                *(page.field(f"pause_until-{part}") for part in ("day", "month", "year")),
            )
            await pause_expert(page.session, expert, until=until, now=page.now, actor=page.actor)
        except Refused as exc:
            return _pause_page(page, expert, exc.by_field("pause_kind"))
        return page.redirect(
            f"/experts/{expert.id}",
            flash=f"Contact is paused. They are now {status_words(expert, page.now)}.",
        )


@router.get("/experts/{expert_id}/telegram-link", response_class=HTMLResponse)
async def telegram_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        return page.render(
            "experts/telegram.html",
            **common(
                expert=expert,
                label=label(expert),
                hours=page.web.built.settings.telegram_link_hours,
                linked=any(p.channel is Channel.TELEGRAM for p in expert.contact_points),
            ),
        )


@router.post("/experts/{expert_id}/telegram-link", response_class=HTMLResponse)
async def telegram_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        settings = page.web.built.settings
        try:
            code = await create_link(
                page.session,
                expert,
                page.viewer,
                cipher=page.web.built.cipher,
                now=page.now,
                hours=settings.telegram_link_hours,
                actor=page.actor,
            )
        except Refused as exc:
            return page.render(
                "experts/telegram.html",
                errors=exc.by_field("make_link"),
                **common(
                    expert=expert,
                    label=label(expert),
                    hours=settings.telegram_link_hours,
                    linked=False,
                ),
            )
        # Shown this once: only a keyed hash of the code is stored.
        return page.render(
            "experts/telegram_made.html",
            **common(
                expert=expert,
                label=label(expert),
                link=code.link(settings.telegram_bot_username),
                start_command=code.start_command,
                expires_at=code.expires_at,
                hours=settings.telegram_link_hours,
                consented=any(c.channel is Channel.TELEGRAM and c.allowed for c in expert.consents),
            ),
        )
