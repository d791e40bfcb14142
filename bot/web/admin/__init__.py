"""The staff pages: link workers' day-to-day work and administrators' oversight.

Each module holds one area and returns its routes; `pages.Web` is what they share.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
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
    payments,
    payments_file,
    payments_statement,
    plans,
    preview,
    privacy,
    replies,
    signin,
    staff_accounts,
    tasks,
)
from bot.web.admin.pages import FormExpired, SignInRequired, Web, sentence, sign_in_url
from bot.web.admin.security import SecurityHeaders, SessionCookies, SessionSigner
from store.errors import Refused

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
_AREAS = (
    signin,
    home,
    experts,
    engagements,
    plans,
    preview,
    payments_file,
    payments_statement,
    payments,
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

    @web_app.exception_handler(RequestValidationError)
    async def _not_understood(request: Request, exc: RequestValidationError) -> Response:
        # An id that is not a number is no record; anything else was not understood.
        if request.url.path.startswith("/webhooks/"):
            return await request_validation_exception_handler(request, exc)
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            return _page_not_found(web, request)
        return _not_done(web, request, "Something in the page's address was not understood.")

    @web_app.exception_handler(OverflowError)
    async def _too_large(request: Request, exc: OverflowError) -> Response:
        # The last net under a number or date too large for Python's or the database's
        # integers: the forms and addresses are checked first, so this is worth a log line.
        route = getattr(request.scope.get("route"), "path", "?")
        log.warning("a number or date too large to handle reached %s", route)
        if request.url.path.startswith("/webhooks/"):
            return Response(status_code=400)
        return _not_done(web, request, "A number or date in the form is too large.")

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


def _not_done(web: Web, request: Request, why: str) -> Response:
    return web.render(
        request,
        "error.html",
        status=400,
        title="That could not be done",
        lines=[why, "Nothing was saved. Go back and try again."],
    )
