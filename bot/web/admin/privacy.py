"""Privacy: how long things are kept (administrators), a copy of everything held about an
expert (anyone who can see them), and erasing an expert (administrators).

The work is in bot.services.privacy (retention, subject_access, erasure); the purge that
applies the retention periods is scheduling.maintenance, which reads what this page saves.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.privacy.erasure import erase_expert, erasure_summary
from bot.services.privacy.retention import load_retention, save_retention
from bot.services.privacy.subject_access import export_expert, who
from bot.services.staff.access import expert_in_scope
from bot.web.admin.pages import Web
from scheduling.maintenance import (
    LEAVER_RETENTION_KEY,
    MESSAGE_RETENTION_KEY,
    RECORD_RETENTION_KEY,
)
from store.errors import Refused

# What each kind of record is called on the erasure page.
ERASED_WORDS = {
    "contact_points": "Contact details",
    "consents": "Permissions to contact them",
    "safe_contact_windows": "Safe times to contact them",
    "invitations": "Invitations, with their answers and support needs",
    "messages": "Messages, with any words still held",
    "replies": "Replies",
    "tasks": "Tasks about them",
    "telegram_links": "Telegram link codes",
    "contact_changes": "Changes of contact details",
}


def routes(web: Web) -> APIRouter:
    router = APIRouter()
    settings = web.built.settings

    @router.get("/admin/privacy", response_class=HTMLResponse)
    async def retention_page(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            current = await load_retention(page.session, settings)
            values = {
                "message_days": str(current.messages.days),
                "record_days": str(current.records.days),
                "leaver_days": str(current.leavers.days),
            }
            return page.render("admin/privacy.html", retention=current, values=values)

    @router.post("/admin/privacy")
    async def retention_save(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            try:
                changed = await save_retention(
                    page.session,
                    settings,
                    page.field("message_days"),
                    page.field("record_days"),
                    page.field("leaver_days"),
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as refused:
                current = await load_retention(page.session, settings)
                errors = refused.by_field("message_days")
                values = {k: page.field(k) for k in ("message_days", "record_days", "leaver_days")}
                return page.render(
                    "admin/privacy.html", errors=errors, retention=current, values=values
                )
            if not changed:
                return page.redirect("/admin/privacy", flash="Nothing changed")
            what = {
                MESSAGE_RETENTION_KEY: "how long message texts and replies are kept",
                RECORD_RETENTION_KEY: "how long tasks and the audit log are kept",
                LEAVER_RETENTION_KEY: "how long the record of someone who left is kept",
            }
            said = " and ".join(what[key] for key in changed)
            return page.redirect(
                "/admin/privacy",
                flash=f"Saved {said}. The next daily clear-out follows the new setting",
            )

    @router.get("/experts/{expert_id}/export")
    async def export(request: Request, expert_id: int) -> Response:
        async with web.page(request) as page:
            expert = await expert_in_scope(page.session, page.scope, expert_id)
            result = await export_expert(
                page.session, expert, now=page.now, actor=page.actor, tz=settings.default_time_zone
            )
        # Sent once the transaction (with its audit event) has committed.
        return Response(
            result.html,
            media_type="text/html; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{result.filename}"'},
        )

    @router.get("/experts/{expert_id}/erase", response_class=HTMLResponse)
    async def erase_page(request: Request, expert_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            expert = await expert_in_scope(page.session, page.scope, expert_id)
            summary = await erasure_summary(page.session, expert)
            page.viewed("expert", expert.id)  # the page names them, to avoid a mistake
            return page.render(
                "admin/privacy_erase.html",
                expert=expert,
                word=who(expert),
                summary=summary,
                erased_words=ERASED_WORDS,
                values={},
            )

    @router.post("/experts/{expert_id}/erase")
    async def erase(request: Request, expert_id: int) -> Response:
        async with web.page(request, admin=True) as page:
            expert = await expert_in_scope(page.session, page.scope, expert_id)
            word = who(expert)
            try:
                await erase_expert(
                    page.session,
                    expert,
                    confirmation=page.field("confirm"),
                    now=page.now,
                    actor=page.actor,
                )
            except Refused as refused:
                summary = await erasure_summary(page.session, expert)
                return page.render(
                    "admin/privacy_erase.html",
                    errors=refused.by_field("confirm"),
                    expert=expert,
                    word=word,
                    summary=summary,
                    erased_words=ERASED_WORDS,
                )
            return page.redirect(
                "/experts",
                flash=f"Expert {word} has been erased. Only a note that you erased them, "
                "and when, is kept",
            )

    return router
