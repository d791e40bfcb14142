"""Contact-plan settings: when the pre-brief, reminder, check-in and de-brief go out for
each kind of engagement.

They are organisation-wide, so any member of staff may read them; administrators and link
workers may change them, and each change is in the audit log (`bot.services.engagements.plans`).
Saving is checked with every layer it meets, so a contradiction is refused, not found later.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.engagements import plans as service
from bot.services.staff.access import NotFound
from bot.web.admin.engagements.forms import read_plan_changes, refused_fields, sentence
from bot.web.admin.pages import Errors, Page, Web
from scheduling.planning.plan_settings import kind_overrides, normalise_kind
from scheduling.rules.plan import PlanError, PlanOffsets
from store.enums import Role
from store.errors import Refused

DEFAULT_KIND = "meeting"


def may_change(page: Page) -> bool:
    """Administrators and link workers may change the settings: every role there is today,
    named so that a future read-only role does not get it by accident."""
    return page.viewer.role in (Role.ADMIN, Role.LINK_WORKER)


def plan_url(kind: str) -> str:
    return "/plans/" + quote(kind, safe="")


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/plans", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        async with web.page(request) as page:
            base = page.web.built.offsets
            return page.render(
                "engagements/plans.html",
                base=base,
                kinds=await service.kind_table(page.session, base),
                may_change=may_change(page),
                plan_url=plan_url,
            )

    @router.get("/plans/new", response_class=HTMLResponse)
    async def new(request: Request) -> Response:
        async with web.page(request) as page:
            if not may_change(page):
                raise NotFound(request.url.path)
            return page.render(
                "engagements/plan_form.html", kind=None, base=page.web.built.offsets, values={}
            )

    @router.post("/plans/new")
    async def create(request: Request) -> Response:
        async with web.page(request) as page:
            if not may_change(page):
                raise NotFound(request.url.path)
            base = page.web.built.offsets
            errors: Errors = {}
            name = ""
            try:
                name = normalise_kind(page.field("kind"))
            except Refused as exc:
                errors["kind"] = sentence(exc.plain)
            if name and (name == DEFAULT_KIND or await service.kind_exists(page.session, name)):
                errors["kind"] = (
                    f"There is already a kind called {name}: change its settings instead"
                )
            changes, setting_errors = read_plan_changes(page, {})
            errors.update(setting_errors)
            if not errors:
                errors.update(await _save(page, name, changes, base))
            if errors:
                return page.render(
                    "engagements/plan_form.html", errors=errors, kind=None, base=base
                )
            return page.redirect(
                "/plans", flash=f"Added {name}. It can now be chosen for an engagement"
            )

    @router.get("/plans/{kind:path}", response_class=HTMLResponse)
    async def edit(request: Request, kind: str) -> Response:
        async with web.page(request) as page:
            name = await _known_kind(page, kind)
            if not may_change(page):
                raise NotFound(request.url.path)
            return page.render(
                "engagements/plan_form.html",
                kind=name,
                base=page.web.built.offsets,
                values=await kind_overrides(page.session, name),
            )

    @router.post("/plans/{kind:path}")
    async def update(request: Request, kind: str) -> Response:
        async with web.page(request) as page:
            name = await _known_kind(page, kind)
            if not may_change(page):
                raise NotFound(request.url.path)
            base = page.web.built.offsets
            changes, errors = read_plan_changes(page, await kind_overrides(page.session, name))
            if not errors and changes:
                errors.update(await _save(page, name, changes, base))
            if errors:
                return page.render(
                    "engagements/plan_form.html", errors=errors, kind=name, base=base
                )
            return page.redirect(
                "/plans",
                flash=f"Saved the contact plan for {name} engagements. Engagements already "
                "planned keep their messages until they next change"
                if changes
                else "Nothing changed",
            )

    return router


async def _known_kind(page: Page, kind: str) -> str:
    """A kind with its own settings, or the default kind; any other name is not found."""
    try:
        name = normalise_kind(kind)
    except PlanError:
        raise NotFound(f"plan kind {kind!r}") from None
    if name != DEFAULT_KIND and not await service.kind_exists(page.session, name):
        raise NotFound(f"plan kind {name!r}")
    return name


async def _save(page: Page, name: str, changes: dict[str, Any], base: PlanOffsets) -> Errors:
    """Save through the service; a contradiction comes back next to the setting at fault."""
    try:
        await service.set_for_kind(
            page.session, name, changes, base, now=page.now, actor=page.actor
        )
    except Refused as exc:
        return refused_fields(exc, next(iter(changes), "pre_brief_days"))
    return {}
