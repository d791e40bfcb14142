"""Staff accounts, for administrators: who can sign in, in which role, and where their
urgent alerts go; new passwords, unlocking and closing accounts; the sessions they have
open, and ending one.

Banner lines travel in the session cookie, which is signed, not encrypted: they say "this
person", never a name.

Everything goes through bot.services.staff.accounts and bot.services.staff.sign_in, the same
services the `linkline staff` commands use.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.staff.access import NotFound
from bot.services.staff.accounts import (
    change_role,
    close_staff,
    create_staff,
    expert_count,
    find_staff,
    list_staff,
    open_task_count,
    set_alert_route,
)
from bot.services.staff.sessions import end_one_session, live_sessions, start_session
from bot.services.staff.sign_in import check_password_rules, set_password, unlock
from bot.web.admin.pages import Errors, Page, Web
from bot.web.admin.signin import client_address
from store.enums import Channel, Role
from store.errors import Refused
from store.models import Staff

_ROLES = {"link_worker": Role.LINK_WORKER, "admin": Role.ADMIN}
_ALERT_CHANNELS = {"email": Channel.EMAIL, "sms": Channel.SMS, "telegram": Channel.TELEGRAM}
_CLOSED = "This account is closed, so it cannot be changed"


def _alert_route(person: Staff) -> str:
    """Where urgent alerts go, without showing the whole number."""
    if person.alert_channel is Channel.SMS and person.alert_to:
        return f"By text, to the number ending {person.alert_to[-3:]}"
    if person.alert_channel is Channel.TELEGRAM:
        return "On Telegram"
    return f"By email, to {person.email}"


def routes(web: Web) -> APIRouter:
    router = APIRouter()

    async def person_or_404(page: Page, staff_id: int) -> Staff:
        person = await find_staff(page.session, str(staff_id))
        if person is None:
            raise NotFound(f"staff {staff_id}")
        return person

    async def show(
        page: Page,
        person: Staff,
        *,
        errors: Errors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response:
        return page.render(
            "admin/staff_show.html",
            person=person,
            errors=errors,
            values=values or {},
            experts=await expert_count(page.session, person.id),
            open_tasks=await open_task_count(page.session, person.id),
            locked=person.locked_until is not None and person.locked_until > page.now,
            alert_route=_alert_route(person),
            is_self=person.id == page.viewer.id,
            sessions=await live_sessions(
                page.session, person.id, limits=web.session_limits, now=page.now
            ),
        )

    async def keep_own_session(page: Page, person: Staff) -> None:
        """Their sessions all ended, this one too: when it is the viewer, start afresh."""
        if person.id == page.viewer.id:
            token = await start_session(
                page.session, person, client=client_address(page.request), now=page.now
            )
            page.web_session.start(token)

    @router.get("/admin/staff", response_class=HTMLResponse)
    async def staff_list(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            return page.render(
                "admin/staff_list.html", people=await list_staff(page.session), now=page.now
            )

    @router.get("/admin/staff/new", response_class=HTMLResponse)
    async def new_form(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            return page.render("admin/staff_new.html", values={})

    @router.post("/admin/staff/new")
    async def new_save(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            name, email = page.field("name"), page.field("email")
            password, again = page.field("password"), page.field("confirm_password")
            errors: Errors = {}
            role = _ROLES.get(page.field("role"))
            if role is None:
                errors["role"] = "Choose whether they are a link worker or an administrator"
            try:
                check_password_rules(password, email=email)
            except Refused as exc:
                errors.update(exc.by_field("password"))
            else:
                if password != again:
                    errors["confirm_password"] = "The two passwords are not the same"
            if not name:
                errors["name"] = "Enter their full name"
            elif len(name) > 120:
                errors["name"] = "Enter a name of 120 characters or fewer"
            if not email:
                errors["email"] = "Enter their work email address"
            person = None
            if "name" not in errors and "email" not in errors:
                try:
                    person = await create_staff(
                        page.session,
                        name=name,
                        email=email,
                        role=role or Role.LINK_WORKER,
                        now=page.now,
                        actor=page.actor,
                    )
                except Refused as exc:
                    errors.update(page.refusal(exc, "email"))
            if errors or person is None:
                values = {"name": name, "email": email, "role": page.field("role")}
                return page.render("admin/staff_new.html", errors=errors, values=values)
            await set_password(
                page.session,
                person,
                password,
                passwords=web.built.passwords,
                now=page.now,
                actor=page.actor,
            )
            return page.redirect(
                f"/admin/staff/{person.id}",
                flash="They can now sign in. Tell them their password in person "
                "or by phone, never by email",
            )

    @router.get("/admin/staff/{staff_id}", response_class=HTMLResponse)
    async def staff_show(request: Request, staff_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            return await show(page, await person_or_404(page, staff_id))

    @router.post("/admin/staff/{staff_id}/role")
    async def role_save(request: Request, staff_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            person = await person_or_404(page, staff_id)
            role = _ROLES.get(page.field("role"))
            values = {"role": page.field("role")}
            if not person.active:
                return await show(page, person, errors={"role": _CLOSED}, values=values)
            if role is None:
                errors = {"role": "Choose link worker or administrator"}
                return await show(page, person, errors=errors, values=values)
            try:
                changed = await change_role(
                    page.session, person, role, now=page.now, actor=page.actor
                )
            except Refused as exc:
                return await show(page, person, errors=page.refusal(exc, "role"), values=values)
            words = "an administrator" if role is Role.ADMIN else "a link worker"
            if not changed:
                return page.redirect(f"/admin/staff/{person.id}", flash="Nothing changed")
            await keep_own_session(page, person)
            if person.id == page.viewer.id and role is not Role.ADMIN:
                # These pages are closed to them from now on.
                return page.redirect("/", flash="You are now a link worker")
            return page.redirect(
                f"/admin/staff/{person.id}",
                flash=f"They are now {words}, and have been signed out everywhere",
            )

    @router.post("/admin/staff/{staff_id}/password")
    async def password_save(request: Request, staff_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            person = await person_or_404(page, staff_id)
            new, again = page.field("new_password"), page.field("confirm_password")
            errors: Errors = {}
            if not person.active:
                errors["new_password"] = _CLOSED
            elif new != again:
                errors["confirm_password"] = "The two passwords are not the same"
            if "new_password" not in errors:
                try:
                    await set_password(
                        page.session,
                        person,
                        new,
                        passwords=web.built.passwords,
                        now=page.now,
                        actor=page.actor,
                    )
                except Refused as exc:
                    errors = page.refusal(exc, "new_password")
            if errors:
                return await show(page, person, errors=errors)
            await keep_own_session(page, person)
            return page.redirect(
                f"/admin/staff/{person.id}",
                flash="New password set. They have been signed out everywhere. "
                "Tell them the new password in person or by phone, never by email",
            )

    @router.post("/admin/staff/{staff_id}/unlock")
    async def unlock_save(request: Request, staff_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            person = await person_or_404(page, staff_id)
            await unlock(page.session, person, now=page.now, actor=page.actor)
            return page.redirect(
                f"/admin/staff/{person.id}", flash="They can try to sign in again now"
            )

    @router.post("/admin/staff/{staff_id}/alerts")
    async def alerts_save(request: Request, staff_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            person = await person_or_404(page, staff_id)
            choice = page.field("alert_channel")
            channel = _ALERT_CHANNELS.get(choice)
            values = {
                "alert_channel": choice,
                "alert_phone": page.field("alert_phone"),
                "alert_chat": page.field("alert_chat"),
            }
            if not person.active:
                return await show(page, person, errors={"alert_channel": _CLOSED}, values=values)
            if channel is None:
                errors = {"alert_channel": "Choose where their urgent alerts should go"}
                return await show(page, person, errors=errors, values=values)
            target = {Channel.SMS: "alert_phone", Channel.TELEGRAM: "alert_chat"}.get(channel)
            to = page.field(target) if target else None
            if target and not to:
                what = "a mobile number" if channel is Channel.SMS else "a Telegram chat id"
                return await show(
                    page, person, errors={target: f"Enter {what} for their alerts"}, values=values
                )
            try:
                await set_alert_route(
                    page.session, person, channel, to, now=page.now, actor=page.actor
                )
            except Refused as exc:
                where = target if exc.field == "alert_to" and target else "alert_channel"
                errors = {where: " ".join(page.refusal(exc, where).values())}
                return await show(page, person, errors=errors, values=values)
            return page.redirect(
                f"/admin/staff/{person.id}",
                flash="Saved where their urgent alerts go",
            )

    @router.post("/admin/staff/{staff_id}/close")
    async def close_save(request: Request, staff_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            person = await person_or_404(page, staff_id)
            if page.field("confirm_close") != "yes":
                errors = {"confirm_close": "Tick the box to confirm you want to close the account"}
                return await show(page, person, errors=errors)
            try:
                report = await close_staff(
                    page.session, person, by=page.viewer, now=page.now, actor=page.actor
                )
            except Refused as exc:
                return await show(page, person, errors=page.refusal(exc, "confirm_close"))
            lines = ["The account is closed. They have been signed out"]
            if report.tasks_moved:
                noun = "task is" if report.tasks_moved == 1 else "tasks are"
                lines.append(f"their {report.tasks_moved} open {noun} now yours")
            if report.no_longer_covering == 1:
                lines.append("the colleague they covered for has no cover now")
            elif report.no_longer_covering:
                lines.append(
                    f"the {report.no_longer_covering} colleagues they covered for have no cover now"
                )
            return page.redirect(f"/admin/staff/{person.id}", flash="; ".join(lines))

    @router.post("/admin/staff/{staff_id}/sessions/{session_id}/end")
    async def session_end(request: Request, staff_id: int, session_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            person = await person_or_404(page, staff_id)
            ended = await end_one_session(
                page.session, person, session_id, now=page.now, actor=page.actor
            )
            flash = "That session has ended" if ended else "That session had already ended"
            return page.redirect(f"/admin/staff/{person.id}#sessions", flash=flash)

    return router
