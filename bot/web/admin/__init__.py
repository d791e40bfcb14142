"""The staff pages: link workers' day-to-day work and administrators' oversight.

Each module holds one area and returns its routes; `pages.Web` is what they share.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.bootstrap import App
from bot.services.staff.access import NotFound
from bot.web.admin import (
    attention,
    audit_log,
    channel_health,
    cover,
    delivery_log,
    engagements,
    experts,
    home,
    plans,
    privacy,
    replies,
    signin,
    staff_accounts,
    tasks,
)
from bot.web.admin.pages import FormExpired, SignInRequired, Web, sentence, sign_in_url
from bot.web.admin.security import SecurityHeaders, SessionCookies, SessionSigner
from store.errors import Refused

STATIC = Path(__file__).resolve().parent.parent / "static"
_AREAS = (
    signin,
    home,
    experts,
    engagements,
    plans,
    replies,
    tasks,
    cover,
    delivery_log,
    attention,
    channel_health,
    staff_accounts,
    audit_log,
    privacy,
)


def install_staff_pages(web_app: FastAPI, built: App) -> Web:
    """Routes, static files, error pages and the session and header middleware."""
    web = Web(built)
    for area in _AREAS:
        web_app.include_router(area.routes(web))
    web_app.mount("/static", StaticFiles(directory=STATIC), name="static")
    signer = SessionSigner(
        built.cipher.session_key,
        idle_seconds=built.settings.session_idle_minutes * 60,
        secure=built.settings.secure_cookies,
    )
    web_app.add_middleware(SessionCookies, signer=signer)
    web_app.add_middleware(SecurityHeaders, https=built.settings.secure_cookies)

    @web_app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(sign_in_url(exc.next_path), status_code=303)

    @web_app.exception_handler(FormExpired)
    async def _expired(request: Request, exc: FormExpired) -> Response:
        return web.render(
            request,
            "error.html",
            status=400,
            title="This form has expired",
            lines=[
                "Nothing was saved. This happens when a page was open for a long time, or "
                "after signing in again.",
                "Go back, reload the page and try again.",
            ],
        )

    @web_app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        # A page catches a refusal and shows the form again (Page.refuse); one that slips
        # through still reads as a sentence, never as a traceback. Nothing was saved: the
        # page's transaction rolled back as the error left it.
        if request.url.path.startswith("/webhooks/"):
            return Response(status_code=500)  # a bug there: the provider retries
        return web.render(
            request,
            "error.html",
            status=400,
            title="That could not be done",
            lines=[sentence(exc.plain), "Nothing was saved. Go back and try again."],
        )

    @web_app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _page_not_found(web, request)

    @web_app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and not request.url.path.startswith("/webhooks/"):
            return _page_not_found(web, request)
        return await http_exception_handler(request, exc)

    return web


def _page_not_found(web: Web, request: Request) -> Response:
    return web.render(
        request,
        "error.html",
        status=404,
        title="Page not found",
        lines=["If you typed the web address, check it is correct."],
    )
