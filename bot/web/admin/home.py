"""The first page after signing in: what needs a person today, most urgent first."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.inbox.today import what_needs_a_person
from bot.web.admin.pages import Web


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        async with web.page(request) as page:
            today = await what_needs_a_person(page.session, page.scope, page.now)
            return page.render("home/home.html", **asdict(today))

    return router
