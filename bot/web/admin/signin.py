"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.services.staff.sessions import end_session, start_session
from bot.services.staff.sign_in import (
    MAX_LENGTH,
    HashingBusy,
    SignInOutcome,
    set_password,
    sign_in,
)
from bot.web.admin.edges import check_fields
from bot.web.admin.pages import MAX_FORM_FIELDS, FormExpired, Web, safe_next
from bot.web.admin.security import CSRF_FIELD, WebSession
from store.errors import Refused

# One answer for an unknown email, a wrong password, a locked account and one without a
# password yet: anything more would tell an outsider who works here.
_WRONG = (
    "Enter the email address and password for your account. After 5 wrong tries an "
    "account is locked for 15 minutes: wait, or ask an administrator to unlock it"
)
_WAIT = "Too many wrong sign-ins from here. Wait 15 minutes and try again"


def client_address(request: Request) -> str:
    """The client's address as the server saw it. A proxy's X-Forwarded-For counts only
    when the proxy is listed in LINKLINE_TRUSTED_PROXIES (see `bot.cli.serving`)."""
    return request.client.host if request.client else "unknown"


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    def form_page(
        request: Request,
        *,
        errors: dict[str, str] | None = None,
        email: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        return web.render(
            request,
            "signin/sign_in.html",
            status=status,
            errors=errors or {},
            values={"email": email},
            next=safe_next(request.query_params.get("next")),
        )

    @router.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_page(request: Request) -> Response:
        return form_page(request)

    @router.post("/sign-in")
    async def sign_in_post(request: Request) -> Response:
        session: WebSession = request.state.session
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
        if not session.csrf_ok(form.get(CSRF_FIELD)):
            raise FormExpired()
        check_fields(form.multi_items())  # a NUL in the email would fail in PostgreSQL
        email = str(form.get("email") or "").strip()[:254]
        password = str(form.get("password") or "")
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = "Enter your email address"
        elif "@" not in email:
            errors["email"] = "Enter an email address in the correct format, like name@example.org"
        if not password:
            errors["password"] = "Enter your password"
        if errors:
            return form_page(request, errors=errors, email=email)
        built = web.built
        try:
            result = await sign_in(
                built.sessions,
                email,
                password[: MAX_LENGTH + 1],
                passwords=built.passwords,
                now=built.clock.now(),
                client=client_address(request),
            )
        except HashingBusy as exc:
            return form_page(request, errors={"email": exc.plain}, email=email, status=503)
        if result.outcome is SignInOutcome.SIGNED_IN and result.token is not None:
            session.start(result.token)
            target = safe_next(str(form.get("next") or ""))
            return RedirectResponse(target, status_code=303)
        if result.outcome is SignInOutcome.CLIENT_WAITS:
            return form_page(request, errors={"email": _WAIT}, email=email, status=429)
        return form_page(request, errors={"email": _WRONG}, email=email, status=400)

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        session: WebSession = request.state.session
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
        if not session.csrf_ok(form.get(CSRF_FIELD)):
            raise FormExpired()
        async with web.built.sessions.begin() as db:
            await end_session(db, session.token, now=web.built.clock.now())
        session.end()
        return RedirectResponse("/sign-in?signed_out=1", status_code=303)

    @router.get("/account/password", response_class=HTMLResponse)
    async def password_page(request: Request) -> Response:
        async with web.page(request) as page:
            return page.render("signin/password.html", values={})

    @router.post("/account/password")
    async def password_post(request: Request) -> Response:
        async with web.page(request) as page:
            new, again = page.field("new_password"), page.field("confirm_password")
            if new != again:
                errors = {"confirm_password": "The two passwords are not the same"}
                return page.render("signin/password.html", errors=errors, values={})
            try:
                await set_password(
                    page.session,
                    page.viewer,
                    new,
                    passwords=web.built.passwords,
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as exc:
                return page.refuse(
                    exc, "signin/password.html", default_field="new_password", values={}
                )
            # The new password signed every session out, this one included: start afresh.
            token = await start_session(
                page.session, page.viewer, client=client_address(request), now=page.now
            )
            page.web_session.start(token)
            return page.redirect("/", flash="Your password has been changed")

    return router
