"""Add an expert: a GOV.UK task list of short sections, then check your answers.

Each section's page saves into the member of staff's draft (kept on the server, encrypted)
and returns to the list; nothing becomes an expert until "Add expert" on the
check-your-answers page. A section with a problem is shown again with each error by its
field and what was typed still in the boxes; its earlier answers stay in the draft.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.experts import contact_changes as changes
from bot.services.experts.drafts import discard_draft, load_draft, save_section
from bot.services.experts.new_contact import visible_sharing
from bot.services.experts.profile import create_expert, link_worker_choices
from bot.services.staff.access import NotFound
from bot.web.admin.areas import StaffWeb
from bot.web.admin.experts.adding_sections import (
    BY_SLUG,
    SECTIONS,
    Section,
    check_draft,
    defaults,
    section_values,
    status,
    summary,
)
from bot.web.admin.experts.shared import NEW_CHANNELS, common, flash_name, posted
from bot.web.admin.pages import Page
from store.errors import Refused
from store.models import Staff

router = APIRouter()
_UNFINISHED = ("Not yet started", "Incomplete")


async def _draft(page: Page) -> tuple[dict[str, Any], dict[str, Staff]]:
    """The viewer's draft over the defaults, and whom they may give an expert to."""
    zone = page.web.built.settings.default_time_zone
    answers = {
        **defaults(page.viewer, zone),
        **await load_draft(page.session, page.viewer.id, page.now),
    }
    workers = {str(s.id): s for s in await link_worker_choices(page.session, page.scope)}
    return answers, workers


def _task_list(
    page: Page, answers: dict[str, Any], errors: dict[str, str], *, summary_errors: bool = False
) -> HTMLResponse:
    rows = [(s, status(s, answers, errors)) for s in SECTIONS]
    ready = not any(state in _UNFINISHED for _, state in rows)
    problems = {
        f"section-{s.slug}": f"Complete {s.title.lower()}"
        for s, state in rows
        if state in _UNFINISHED
    }
    return page.render(
        "experts/new.html",
        errors=problems if summary_errors else None,
        rows=rows,
        ready=ready,
        started=bool(answers.get("saved")),
        values={},
    )


@router.get("/experts/new", response_class=HTMLResponse)
async def new_page(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        answers, workers = await _draft(page)
        _, errors = check_draft(answers, workers, page.today, page.viewer)
        return _task_list(page, answers, errors)


@router.get("/experts/new/check", response_class=HTMLResponse)
async def check_page(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        return await _check(page)


async def _check(page: Page) -> Response:
    answers, workers = await _draft(page)
    _, errors = check_draft(answers, workers, page.today, page.viewer)
    if any(status(s, answers, errors) in _UNFINISHED for s in SECTIONS):
        return page.redirect("/experts/new")
    cards = [(s, summary(s, answers, workers, page.viewer)) for s in SECTIONS]
    return page.render("experts/new_check.html", cards=cards, values={})


@router.post("/experts/new/check")
async def check_post(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        answers, workers = await _draft(page)
        valid, errors = check_draft(answers, workers, page.today, page.viewer)
        if valid is None or any(status(s, answers, errors) in _UNFINISHED for s in SECTIONS):
            return _task_list(page, answers, errors, summary_errors=True)
        try:
            expert = await create_expert(
                page.session,
                page.web.built.cipher,
                valid,
                actor=page.actor,
                now=page.now,
                safe_contact_confirmed_by=page.viewer,
            )
        except Refused as exc:  # a reference taken meanwhile: the section, by its field
            found = page.refusal(exc, "preferred_name")
            where = next((s for s in SECTIONS if any(s.owns(f) for f in found)), SECTIONS[0])
            return _section_form(page, where, answers, workers, found)
        await discard_draft(page.session, page.viewer.id)
        others = (await changes.shared_contacts(page.session, [expert.id])).get(expert.id, set())
        shared = await visible_sharing(
            page.session, page.scope, expert, others, what="phone number or email", now=page.now
        )
        note = (
            " Their phone number or email is also on another expert's record: please "
            "check it is right."
            if shared
            else ""
        )
        return page.redirect(f"/experts/{expert.id}", flash=f"Added {flash_name(expert)}.{note}")


@router.post("/experts/new/discard")
async def discard(request: Request, web: StaffWeb) -> Response:
    async with web.page(request) as page:
        await discard_draft(page.session, page.viewer.id)
        return page.redirect("/experts", flash="The expert you were adding was not saved.")


def _section(slug: str) -> Section:
    section = BY_SLUG.get(slug)
    if section is None:
        raise NotFound(slug)
    return section


@router.get("/experts/new/{slug}", response_class=HTMLResponse)
async def section_page(request: Request, web: StaffWeb, slug: str) -> Response:
    async with web.page(request) as page:
        section = _section(slug)
        answers, workers = await _draft(page)
        return _section_form(page, section, answers, workers, {})


def _section_form(
    page: Page,
    section: Section,
    values: dict[str, Any],
    workers: dict[str, Staff],
    errors: dict[str, str],
) -> HTMLResponse:
    return page.render(
        "experts/new_section.html",
        errors=errors,
        section=section,
        values=values,
        back_to_check=page.request.query_params.get("from") == "check"
        or page.field("from") == "check",
        **common(page, workers=list(workers.values()), channels=NEW_CHANNELS),
    )


@router.post("/experts/new/{slug}")
async def section_post(request: Request, web: StaffWeb, slug: str) -> Response:
    async with web.page(request) as page:
        section = _section(slug)
        answers, workers = await _draft(page)
        typed = section_values(section, posted(page))
        _, errors = check_draft({**answers, **typed}, workers, page.today, page.viewer)
        mine = {f: text for f, text in errors.items() if section.owns(f)}
        if mine:
            order = {f: i for i, f in enumerate(section.fields)}
            mine = dict(sorted(mine.items(), key=lambda kv: order.get(kv[0], len(order))))
            return _section_form(page, section, {**answers, **typed}, workers, mine)
        await save_section(page.session, page.viewer.id, section.slug, typed, page.now)
        back = "/experts/new/check" if page.field("from") == "check" else "/experts/new"
        return page.redirect(back)
