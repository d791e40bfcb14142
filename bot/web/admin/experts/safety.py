"""Keeping contact safe: what an expert agreed to, channel by channel, which way to try
first, and the days and hours contact is safe."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.experts.consent import record_consents, set_channels
from bot.services.experts.windows import add_window, remove_window
from bot.services.staff.access import NotFound
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.forms import (
    ALL_DAY,
    channels_from_form,
    consent_from_form,
    form_window,
    window_channel,
)
from bot.web.admin.experts.shared import common, describe, expert_page, label, posted
from bot.web.admin.pages import Page
from store.errors import Refused
from store.models import Expert

router = APIRouter()


@router.get("/experts/{expert_id}/consent", response_class=HTMLResponse)
async def consent_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        allowed = [c for c in expert.consents if c.allowed]
        return page.render(
            "experts/consent.html",
            values={
                "allow": [c.channel.value for c in allowed],
                "details": [c.channel.value for c in allowed if c.details_safe],
            },
            **common(expert=expert, label=label(expert)),
        )


@router.post("/experts/{expert_id}/consent")
async def consent_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            await record_consents(
                page.session,
                expert,
                consent_from_form(page.fields("allow"), page.fields("details")),
                confirmed_by=page.viewer,
                confirmed_on=page.today,
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            return page.render(
                "experts/consent.html",
                errors=exc.by_field("consent_sms"),
                values=posted(page),
                **common(expert=expert, label=label(expert)),
            )
        return page.redirect(
            f"/experts/{expert.id}", flash="Their consent has been saved. Thank you."
        )


@router.get("/experts/{expert_id}/channels", response_class=HTMLResponse)
async def channels_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        return page.render(
            "experts/channels.html",
            values={
                "preferred_channel": expert.preferred_channel.value,
                "fallback_channels": list(expert.fallback_channels),
            },
            **common(expert=expert, label=label(expert)),
        )


@router.post("/experts/{expert_id}/channels")
async def channels_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            preferred, fallbacks = channels_from_form(
                page.field("preferred_channel"), page.fields("fallback_channels")
            )
            await set_channels(
                page.session, expert, preferred, fallbacks, now=page.now, actor=page.actor
            )
        except Refused as exc:
            return page.render(
                "experts/channels.html",
                errors=exc.by_field("preferred_channel"),
                values=posted(page),
                **common(expert=expert, label=label(expert)),
            )
        return page.redirect(
            f"/experts/{expert.id}", flash="The ways we contact them have been saved."
        )


def _windows_page(page: Page, expert: Expert, errors: dict[str, str] | None = None) -> Response:
    return page.render(
        "experts/windows.html",
        errors=errors,
        values=posted(page) if errors else {},
        **common(
            expert=expert,
            label=label(expert),
            windows=[(w.id, describe(w)) for w in expert.windows],
        ),
    )


@router.get("/experts/{expert_id}/windows", response_class=HTMLResponse)
async def windows_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        return _windows_page(page, await expert_page(page, expert_id))


@router.post("/experts/{expert_id}/windows")
async def windows_add(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            window = form_window(
                page.fields("window_days"),
                page.field("window_from"),
                page.field("window_until"),
                window_channel(page.field("window_channel")),
                all_day=page.field("window_all_day") == ALL_DAY,
            )
            await add_window(page.session, expert, window, now=page.now, actor=page.actor)
        except Refused as exc:
            return _windows_page(page, expert, exc.by_field("window_from"))
        return page.redirect(f"/experts/{expert.id}/windows", flash="The safe time has been added.")


@router.post("/experts/{expert_id}/windows/{window_id}/remove")
async def windows_remove(
    request: Request, web: StaffWeb, expert_id: int, window_id: int
) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            await remove_window(page.session, expert, window_id, now=page.now, actor=page.actor)
        except Refused:
            raise NotFound(f"window {window_id}") from None
        return page.redirect(
            f"/experts/{expert.id}/windows", flash="The safe time has been removed."
        )
