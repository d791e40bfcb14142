"""The first page after signing in: what needs a person today, most urgent first."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.inbox.replies import age_in_words
from bot.services.inbox.today import what_needs_a_person, worrying_replies
from bot.web.admin.pages import Web


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        async with web.page(request) as page:
            today = await what_needs_a_person(page.session, page.scope, page.now)
            worrying = await worrying_replies(page.session, page.scope, page.now)
            return page.render(
                "home/home.html", worrying=worrying, age_in_words=age_in_words, **asdict(today)
            )

    return router
