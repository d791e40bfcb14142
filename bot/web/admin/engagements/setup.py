"""Setting an engagement up: the list, creating and editing a draft, publishing it, moving
it, and its own contact plan."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.engagements import lifecycle as service
from bot.services.engagements import plans as plan_service
from bot.services.engagements.queries import answer_counts, known_kinds, list_engagements
from bot.services.engagements.rules import (
    may_change_plan,
    may_edit,
    may_move,
    may_publish,
    missing_information,
)
from bot.web.admin.areas import StaffWeb
from bot.web.admin.engagements.common import (
    WORDS,
    load_engagement,
    load_engagement_to_change,
    planned,
    refused,
    show_engagement,
)
from bot.web.admin.engagements.forms import (
    DATE_FIELD,
    MISSING_LABELS,
    engagement_values,
    form_labels,
    office_zone,
    read_engagement_form,
    read_plan_changes,
    read_when,
    refused_fields,
    when_values,
)
from store.enums import EngagementStatus
from store.errors import Refused
from store.models import Engagement

router = APIRouter()

# A draft's date is one of its details, changed with the rest on the edit form (the CLI,
# with no such form, moves a draft with `move`).
DRAFTS_ARE_EDITED = "This engagement is a draft: change its date or time by editing it"


def _not_movable_here(engagement: Engagement) -> str | None:
    if engagement.status is EngagementStatus.DRAFT:
        return DRAFTS_ARE_EDITED
    return may_move(engagement)


# --- the list, and creating ---------------------------------------------------------------


@router.get("/engagements", response_class=HTMLResponse)
async def index(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        found = await list_engagements(page.session, page.scope.engagements())
        counts = await answer_counts(page.session, [e.id for e in found])
        upcoming = [e for e in found if e.ends_at > page.now]
        past = sorted(
            (e for e in found if e.ends_at <= page.now),
            key=lambda e: e.starts_at,
            reverse=True,
        )
        return page.render(
            "engagements/index.html",
            upcoming=upcoming,
            past=past,
            counts=counts,
            now=page.now,
            **WORDS,
        )


@router.get("/engagements/new", response_class=HTMLResponse)
async def new(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        return page.render(
            "engagements/form.html",
            kinds=await known_kinds(page.session),
            engagement=None,
            values={"kind": "meeting"},
            **form_labels(),
        )


@router.post("/engagements/new")
async def create(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        kinds = await known_kinds(page.session)
        form, errors = read_engagement_form(page, kinds)
        if not errors:
            try:
                engagement = await service.create_engagement(
                    page.session,
                    title=form["title"],
                    starts_at=form["starts_at"],
                    ends_at=form["ends_at"],
                    lead=page.viewer,
                    details=form["details"],
                    plan_overrides=None,
                    base_offsets=page.web.built.offsets,
                    time_zone=office_zone(page),
                    now=page.now,
                    actor=page.actor,
                    kind=form["kind"],
                )
            except Refused as exc:
                errors = refused_fields(exc, "title")
        if errors:
            return page.render(
                "engagements/form.html",
                errors=errors,
                kinds=kinds,
                engagement=None,
                **form_labels(),
            )
        missing = missing_information(engagement)
        return page.redirect(
            f"/engagements/{engagement.id}",
            flash="Saved as a draft"
            + (". Fill in the missing details before publishing it" if missing else ""),
        )


# --- one engagement -----------------------------------------------------------------------


@router.get("/engagements/{engagement_id}", response_class=HTMLResponse)
async def show(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        return await show_engagement(page, engagement)


@router.post("/engagements/{engagement_id}/publish")
async def publish(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        missing = missing_information(engagement)
        if may_publish(engagement) is None and missing:
            problems = [
                {
                    "text": f"{MISSING_LABELS.get(name, name)} is missing",
                    "href": f"/engagements/{engagement.id}/edit#" + name.split(" or ")[0],
                }
                for name in missing
            ]
            return await show_engagement(
                page,
                engagement,
                problems=problems,
                problems_title="Fill these in before publishing: people must know them "
                "before they agree to come",
            )
        try:
            report = await service.publish(
                page.session,
                engagement,
                page.web.built.offsets,
                now=page.now,
                actor=page.actor,
            )
        except Refused as exc:
            return await refused(page, engagement, exc.plain)
        return page.redirect(
            f"/engagements/{engagement.id}",
            flash=f"Published. {planned(report.added)}",
        )


@router.get("/engagements/{engagement_id}/edit", response_class=HTMLResponse)
async def edit(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        if (refusal := may_edit(engagement)) is not None:
            return await refused(page, engagement, refusal)
        return page.render(
            "engagements/form.html",
            kinds=await known_kinds(page.session),
            engagement=engagement,
            values=engagement_values(engagement, office_zone(page)),
            **form_labels(),
        )


@router.post("/engagements/{engagement_id}/edit")
async def update(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := may_edit(engagement)) is not None:
            return await refused(page, engagement, refusal)
        kinds = await known_kinds(page.session)
        form, errors = read_engagement_form(page, sorted({*kinds, engagement.kind}))
        if not errors:
            try:
                await service.update_draft(
                    page.session,
                    engagement,
                    title=form["title"],
                    kind=form["kind"],
                    starts_at=form["starts_at"],
                    ends_at=form["ends_at"],
                    details=form["details"],
                    base_offsets=page.web.built.offsets,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                errors = refused_fields(exc, "title")
        if errors:
            return page.render(
                "engagements/form.html",
                errors=errors,
                kinds=kinds,
                engagement=engagement,
                **form_labels(),
            )
        return page.redirect(f"/engagements/{engagement.id}", flash="Changes saved")


@router.get("/engagements/{engagement_id}/move", response_class=HTMLResponse)
async def move_page(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement(page, engagement_id)
        if (refusal := _not_movable_here(engagement)) is not None:
            return await refused(page, engagement, refusal)
        return page.render(
            "engagements/move.html",
            engagement=engagement,
            values=when_values(engagement, office_zone(page)),
        )


@router.post("/engagements/{engagement_id}/move")
async def move(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := _not_movable_here(engagement)) is not None:
            return await refused(page, engagement, refusal)
        starts_at, ends_at, errors = read_when(page)
        if not errors and starts_at is not None and ends_at is not None:
            try:
                await service.move(
                    page.session,
                    engagement,
                    starts_at,
                    ends_at,
                    page.web.built.offsets,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                errors = refused_fields(exc, DATE_FIELD)
        if errors:
            return page.render("engagements/move.html", errors=errors, engagement=engagement)
        return page.redirect(
            f"/engagements/{engagement.id}",
            flash="The date or time has changed. Messages not yet sent have moved with "
            "it, and anyone who already heard the old time will be told the new one",
        )


# --- this engagement's contact plan -------------------------------------------------------


@router.post("/engagements/{engagement_id}/plan")
async def plan(request: Request, engagement_id: int, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        engagement = await load_engagement_to_change(page, engagement_id)
        if (refusal := may_change_plan(engagement)) is not None:
            return await refused(page, engagement, refusal)
        changes, errors = read_plan_changes(page, engagement.plan_overrides or {})
        if not errors and changes:
            try:
                await plan_service.set_for_engagement(
                    page.session,
                    engagement,
                    changes,
                    page.web.built.offsets,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                errors = refused_fields(exc, next(iter(changes)))
        if errors:
            return await show_engagement(page, engagement, errors=errors)
        return page.redirect(
            f"/engagements/{engagement.id}#plan",
            flash="Contact plan saved. Messages not yet sent have moved to match"
            if changes
            else "Nothing changed in the contact plan",
        )
