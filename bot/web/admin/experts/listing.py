"""The experts list, adding someone, contact changes waiting for a second person, and one
expert's profile with the "about them" details.

The fixed paths (/experts/new, /experts/changes) are registered before
/experts/{expert_id}, which would otherwise take them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.experts import contact_changes as changes
from bot.services.experts.profile import (
    confirm_safe_contact,
    is_paused,
    list_experts,
    safe_contact_confirmer,
    safe_contact_due,
    status_words,
    update_details,
)
from bot.services.staff.access import NotFound
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.forms import (
    details_from_form,
)
from bot.web.admin.experts.shared import (
    change_rows,
    common,
    describe,
    expert_page,
    flash_name,
    label,
    posted,
    sharing,
)
from bot.web.admin.pages import Page
from bot.web.admin.planned import coming_up_for
from scheduling.people.promises import promise_lines
from scheduling.sending.gate import refusals_for
from scheduling.text.words import CHANNELS
from store.enums import Channel
from store.errors import Refused
from store.models import ContactChange, Expert

router = APIRouter()


@dataclass(frozen=True)
class ExpertRow:
    """One line of "Your experts"."""

    expert: Expert
    status: str
    check_again: bool
    shared: bool


@router.get("/experts", response_class=HTMLResponse)
async def experts_list(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        experts = await list_experts(page.session, page.scope.experts())
        shared = await changes.shared_contacts(
            page.session, [e.id for e in experts], within=page.scope.experts()
        )
        waiting = await changes.changes_to_confirm(page.session, page.scope.experts(), page.viewer)
        page.viewed("expert", None, listed=len(experts))
        rows = [
            ExpertRow(e, status_words(e, page.now), safe_contact_due(e, page.now), e.id in shared)
            for e in experts
        ]
        return page.render("experts/list.html", **common(rows=rows, waiting=len(waiting)))


async def _changes_list(page: Page, errors: dict[str, str] | None = None) -> HTMLResponse:
    waiting = await changes.changes_to_confirm(page.session, page.scope.experts(), page.viewer)
    rows = []
    for change in waiting:
        rows.extend(await change_rows(page, [change], change.expert))
    if rows:  # names and contact details were shown
        page.viewed("contact_change", None, listed=len(rows))
    return page.render(
        "experts/changes.html", errors=errors, values={}, **common(rows=rows, label=label)
    )


@router.get("/experts/changes", response_class=HTMLResponse)
async def changes_page(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        return await _changes_list(page)


async def _change_for(page: Page, change_id: int) -> ContactChange:
    change = await changes.change_in_scope(page.session, page.scope.experts(), change_id)
    if change is None:
        raise NotFound(f"contact change {change_id}")
    return change


@router.post("/experts/changes/{change_id}/confirm")
async def change_confirm(request: Request, web: StaffWeb, change_id: int) -> Response:
    async with web.page(request) as page:
        change = await _change_for(page, change_id)
        try:
            await changes.confirm_change(
                page.session,
                page.web.built.cipher,
                change,
                page.viewer,
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            return await _changes_list(page, exc.by_field("changes"))
        what = changes.KIND_WORDS.get(change.channel, "contact detail")
        return page.redirect(
            "/experts/changes",
            flash=f"Confirmed. {flash_name(change.expert)}'s new {what} is used from now on.",
        )


@router.post("/experts/changes/{change_id}/reject")
async def change_reject(request: Request, web: StaffWeb, change_id: int) -> Response:
    async with web.page(request) as page:
        change = await _change_for(page, change_id)
        try:
            await changes.reject_change(
                page.session, change, page.viewer, now=page.now, actor=page.actor
            )
        except Refused as exc:
            return await _changes_list(page, exc.by_field("changes"))
        what = changes.KIND_WORDS.get(change.channel, "contact detail")
        if change.requested_by_id == page.viewer.id:
            return page.redirect(
                f"/experts/{change.expert_id}",
                flash=f"Your request for a new {what} has been withdrawn. Nothing changed.",
            )
        return page.redirect(
            "/experts/changes",
            flash=f"Turned down. {flash_name(change.expert)} keeps the {what} we had.",
        )


@router.get("/experts/{expert_id}", response_class=HTMLResponse)
async def show(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        page.viewed("expert", expert.id)
        shared = (await sharing(page, [expert.id])).get(expert.id)
        waiting = await changes.waiting_changes(page.session, expert.id)
        confirmer = await safe_contact_confirmer(page.session, expert)
        points = {p.channel: p for p in expert.contact_points}
        consents = {c.channel: c for c in expert.consents}
        promises = await promise_lines(page.session, expert, page.now)
        coming = await coming_up_for(page, expert.id)
        return page.render(
            "experts/show.html",
            **common(
                expert=expert,
                label=label(expert),
                state=status_words(expert, page.now),
                check_again=safe_contact_due(expert, page.now),
                confirmer=confirmer,
                shared=shared,
                waiting=await change_rows(page, waiting, expert),
                points=points,
                consents=consents,
                telegram_linked=Channel.TELEGRAM in points,
                phone=changes.shown(Channel.SMS, changes.current_value(expert, Channel.SMS)),
                address=changes.current_value(expert, Channel.LETTER),
                email=changes.current_value(expert, Channel.EMAIL),
                windows=[describe(w) for w in expert.windows],
                order=[CHANNELS[c] for c in expert.channel_order()],
                is_admin=page.scope.is_admin,
                paused=is_paused(expert, page.now),
                refusals=await refusals_for(page.session, expert.id),
                promises=promises,
                coming=coming,
            ),
        )


@router.post("/experts/{expert_id}/safe-contact-confirmed")
async def safe_contact_confirmed(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        await confirm_safe_contact(
            page.session, expert, page.viewer, now=page.now, actor=page.actor
        )
        return page.redirect(
            f"/experts/{expert.id}",
            flash="Thank you. We have noted that you went through their safe-contact "
            "details with them today.",
        )


def _details_values(expert: Expert) -> dict[str, Any]:
    return {
        "preferred_name": expert.preferred_name,
        "ref": expert.ref or "",
        "language": expert.language,
        "time_zone": expert.time_zone,
        "discreet": "yes" if expert.discreet else "no",
        "access_needs": list(expert.access_needs),
    }


@router.get("/experts/{expert_id}/edit", response_class=HTMLResponse)
async def edit_page(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        return page.render(
            "experts/edit.html",
            values=_details_values(expert),
            **common(page, expert=expert, label=label(expert)),
        )


@router.post("/experts/{expert_id}/edit")
async def edit_post(request: Request, web: StaffWeb, expert_id: int) -> Response:
    async with web.page(request) as page:
        expert = await expert_page(page, expert_id)
        try:
            details = details_from_form(
                {
                    "ref": page.field("ref"),
                    "preferred_name": page.field("preferred_name"),
                    "language": page.field("language") or "en",
                    "time_zone": page.field("time_zone")
                    or page.web.built.settings.default_time_zone,
                    "discreet": page.field("discreet") != "no",
                    "access_needs": page.fields("access_needs"),
                }
            )
            await update_details(page.session, expert, details, now=page.now, actor=page.actor)
        except Refused as exc:
            return page.render(
                "experts/edit.html",
                errors=exc.by_field("preferred_name"),
                values=posted(page),
                **common(page, expert=expert, label=label(expert)),
            )
        return page.redirect(f"/experts/{expert.id}", flash="Their details have been saved.")
