"""What every staff page shares: one transaction, the signed-in person, what they may see,
CSRF checking of every form, and rendering with GOV.UK Frontend's Jinja macros.

A handler is written as::

    async with web.page(request) as page:
        expert = await expert_in_scope(page.session, page.scope, expert_id)
        return page.render("experts/show.html", expert=expert)

so the transaction commits before the response leaves, and a redirect after a form never
lands on a page that cannot yet see what was saved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from bot.bootstrap import App
from bot.services.staff.access import NotFound, Scope, scope_for
from bot.services.staff.sessions import Limits, live_staff
from bot.web.admin.edges import check_address, check_fields
from bot.web.admin.security import CSRF_FIELD, WebSession
from scheduling.clock import local_today
from scheduling.rules.given import is_given
from scheduling.text.words import PURPOSE_DESCRIPTIONS, in_sentence, label
from store import audit
from store.enums import Role
from store.errors import Refused
from store.models import Staff

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_FORM_FIELDS = 200


class SignInRequired(Exception):
    """No valid session: the visitor is sent to the sign-in page, then back."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class FormExpired(Exception):
    """The CSRF token is missing or wrong: an old tab, or a form posted from elsewhere."""


class _RolledBack(Exception):
    """Leaves the transaction by rolling it back."""


Errors = dict[str, str]


def sentence(text: str) -> str:
    """Service messages are written for the command line too: start them with a capital."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str


LINK_WORKER_NAV = (
    NavItem("Home", "/"),
    NavItem("Experts", "/experts"),
    NavItem("Engagements", "/engagements"),
    NavItem("Contact plans", "/plans"),
    NavItem("Replies", "/replies"),
    NavItem("Tasks", "/tasks"),
    NavItem("Cover", "/cover"),
)
ADMIN_NAV = (
    *LINK_WORKER_NAV,
    NavItem("Delivery log", "/admin/delivery"),
    NavItem("Needs attention", "/admin/attention"),
    NavItem("Payments", "/admin/payments"),
    NavItem("Channels", "/admin/channels"),
    NavItem("Staff", "/admin/staff"),
    NavItem("Audit log", "/admin/audit"),
    NavItem("Privacy", "/admin/privacy"),
)


def _error_message(errors: Mapping[str, str] | None, name: str) -> dict[str, str] | None:
    """The ``errorMessage`` a GOV.UK macro wants for one field, or None (no error)."""
    if errors and name in errors:
        return {"text": errors[name]}
    return None


def _error_list(errors: Mapping[str, str] | None) -> list[dict[str, str]]:
    """The error summary's links, each to its field."""
    return [{"text": text, "href": f"#{name}"} for name, text in (errors or {}).items()]


def _shown(value: Any) -> Any:
    """Jinja's finalize for the staff pages: a value that is not there prints as nothing,
    never as "None" (a form box stays empty; a page says "Not given" where it matters)."""
    return "" if value is None else value


def _or_not_given(value: Any, words: str = "Not given") -> Any:
    """A detail shown on a page, or plain words saying nobody gave it."""
    if value is None or (isinstance(value, str) and not is_given(value)):
        return words
    return value


def _local(value: datetime | None, fmt: str = "%-d %b %Y, %H:%M", *, zone: ZoneInfo) -> str:
    """A stored UTC time as people in the organisation read it."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime(fmt)


def _day(value: date | datetime | None, *, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return value.strftime("%-d %B %Y")


@cache
def build_templates(time_zone: str) -> Jinja2Templates:
    """Built once per process (and zone): compiling GOV.UK Frontend's macros takes half a
    second, and the compiled pages are kept by the environment. Times on pages read in the
    organisation's ``time_zone``."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(TEMPLATES)),
            jinja2.PrefixLoader(
                {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
            ),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )
    env.globals.update(
        error_message=_error_message,
        error_list=_error_list,
        # The one table of words for enum values (scheduling/text/words.py).
        label=label,
        in_sentence=in_sentence,
        purpose_description=PURPOSE_DESCRIPTIONS.get,
    )
    zone = ZoneInfo(time_zone)
    env.filters.update(
        local=partial(_local, zone=zone), day=partial(_day, zone=zone), or_not_given=_or_not_given
    )
    # Every GOV.UK macro (govukButton, govukInput, ...) is a global, so a page template
    # need not import the ones it uses (Jinja imports are not inherited from a layout).
    components = resources.files("govuk_frontend_jinja") / "templates" / "components"
    for component in sorted(c.name for c in components.iterdir() if c.is_dir()):
        module = env.get_template(f"govuk_frontend_jinja/components/{component}/macro.html").module
        env.globals.update({k: getattr(module, k) for k in dir(module) if k.startswith("govuk")})
    return Jinja2Templates(env=env)


@dataclass
class Page:
    """One request's view of the service, for the page handler."""

    request: Request
    web: Web
    session: AsyncSession
    viewer: Staff
    scope: Scope
    now: datetime
    form: FormData | None = None
    # Set when the page is shown again with errors: whatever the handler changed is
    # rolled back, so a refused form never saves half of itself.
    refused: bool = False

    @property
    def actor(self) -> str:
        return self.viewer.email

    @property
    def today(self) -> date:
        return local_today(self.now, self.web.time_zone)

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's time zone, in which people read dates and times."""
        return self.web.zone

    @property
    def is_admin(self) -> bool:
        return self.viewer.role is Role.ADMIN

    @property
    def web_session(self) -> WebSession:
        session: WebSession = self.request.state.session
        return session

    def field(self, name: str) -> str:
        """A text field from the posted form, trimmed; '' when absent."""
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes)."""
        if self.form is None:
            return []
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str)]

    def flash(self, text: str) -> None:
        """A line shown once on the next page, as a success banner."""
        self.web_session.flash(text)

    def viewed(self, entity: str, entity_id: int | None, **data: Any) -> None:
        """Record that someone looked at personal data: the audit log shows who saw what."""
        audit.record(
            self.session,
            actor=self.actor,
            action=f"{entity}.viewed",
            entity=entity,
            entity_id=entity_id,
            at=self.now,
            **data,
        )

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        errors: Errors | None = None,
        **context: Any,
    ) -> HTMLResponse:
        if errors:
            self.refused = True
        return self.web.render(
            self.request,
            template,
            status=400 if errors and status == 200 else status,
            viewer=self.viewer,
            errors=errors or {},
            values=context.pop("values", None) or (self.form or {}),
            **context,
        )

    def refusal(self, exc: Refused, default_field: str) -> Errors:
        """Why a service refused, beside its form field (``default_field`` when it names
        none); whatever the handler changed is rolled back."""
        self.refused = True
        return {name: sentence(text) for name, text in exc.by_field(default_field).items()}

    def refuse(
        self,
        exc: Refused,
        template: str,
        *,
        default_field: str,
        values: Mapping[str, Any] | None = None,
        status: int = 400,
        **context: Any,
    ) -> HTMLResponse:
        """The form again with why it was refused, and nothing saved: the one way a page
        answers a `Refused` (``values`` default to what was posted)."""
        return self.render(
            template,
            status=status,
            errors=self.refusal(exc, default_field),
            values=values,
            **context,
        )

    def redirect(self, to: str, flash: str | None = None) -> RedirectResponse:
        if flash:
            self.flash(flash)
        return RedirectResponse(to, status_code=303)


class Web:
    """The staff pages' shared machinery, built once per app."""

    def __init__(self, built: App) -> None:
        self.built = built
        self.time_zone = built.settings.default_time_zone
        self.zone = ZoneInfo(self.time_zone)
        self.templates = build_templates(self.time_zone)
        self.session_limits = Limits(
            idle=timedelta(minutes=built.settings.session_idle_minutes),
            most=timedelta(hours=built.settings.session_max_hours),
        )

    def render(
        self, request: Request, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        session: WebSession | None = getattr(request.state, "session", None)
        viewer: Staff | None = context.get("viewer")
        nav = () if viewer is None else ADMIN_NAV if viewer.role is Role.ADMIN else LINK_WORKER_NAV
        path = request.url.path
        base: dict[str, Any] = {
            "csrf_field": CSRF_FIELD,
            "csrf_token": session.csrf_token() if session is not None else "",
            "csp_nonce": getattr(request.state, "csp_nonce", ""),
            "flashes": session.take_flashes() if session is not None else [],
            "nav": [
                {
                    "text": item.text,
                    "href": item.href,
                    "active": path == item.href
                    or (item.href != "/" and path.startswith(item.href + "/")),
                }
                for item in nav
            ],
            "errors": {},
            "values": {},
        }
        return self.templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status
        )

    @asynccontextmanager
    async def page(self, request: Request, *, admin: bool = False) -> AsyncIterator[Page]:
        """Sign-in, scope and CSRF for one request, inside one transaction.

        ``admin=True`` pages are "not found" for anyone else, like a record out of scope.
        """
        session_data: WebSession = request.state.session
        check_address(request)
        form = await self._checked_form(request, session_data)
        now = self.built.clock.now()
        try:
            async with self.built.sessions.begin() as db:
                viewer = await self._viewer(db, session_data, request, now)
                if admin and viewer.role is not Role.ADMIN:
                    raise NotFound(request.url.path)
                scope = await scope_for(db, viewer, local_today(now, self.time_zone))
                page = Page(request, self, db, viewer, scope, now, form)
                yield page
                if page.refused:
                    raise _RolledBack()
        except _RolledBack:
            pass

    async def _checked_form(self, request: Request, session: WebSession) -> FormData | None:
        if request.method in ("GET", "HEAD"):
            return None
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=1)
        if not session.csrf_ok(form.get(CSRF_FIELD)):
            raise FormExpired()
        check_fields(form.multi_items())
        return form

    async def _viewer(
        self, db: AsyncSession, session: WebSession, request: Request, now: datetime
    ) -> Staff:
        """The database decides: a session ended, idle or too old signs them out here."""
        staff = await live_staff(db, session.token, limits=self.session_limits, now=now)
        if staff is None:
            session.end()
            path = request.url.path
            if request.url.query and request.method == "GET":
                path += "?" + request.url.query
            raise SignInRequired(path if request.method == "GET" else "/")
        return staff


def sign_in_url(next_path: str) -> str:
    if next_path in ("", "/"):
        return "/sign-in"
    return "/sign-in?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str:
    """Only a path on this site: '//evil.example' and 'https://…' go home instead."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
