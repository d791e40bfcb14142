"""The audit log, for administrators: who looked at or changed which record, and when.

Audit events hold ids and field names only, never message content or contact details, so
this page can show them all. The filters are a GET form, so a filtered view is a link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from bot.services.privacy.audit_search import (
    AuditPage,
    audit_choices,
    audit_details,
    describe_action,
    describe_entity,
    parse_audit_query,
    search_audit,
)
from bot.web.admin.pages import Web
from store.errors import Refused

# Records that have a page of their own, to link each event to what it was about.
_RECORD_PAGES = {
    "expert": "/experts/{}",
    "engagement": "/engagements/{}",
    "task": "/tasks/{}",
    "reply": "/replies/{}",
    "staff": "/admin/staff/{}",
}


def record_link(entity: str, entity_id: int | None) -> str | None:
    pattern = _RECORD_PAGES.get(entity)
    return pattern.format(entity_id) if pattern and entity_id is not None else None


def routes(web: Web) -> APIRouter:
    router = APIRouter()
    tz = web.built.settings.default_time_zone

    @router.get("/admin/audit", response_class=HTMLResponse)
    async def audit_log(request: Request) -> Response:
        async with web.page(request, admin=True) as page:
            params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
            actions, entities = await audit_choices(page.session)
            context: dict[str, Any] = {
                "actions": [
                    {
                        "value": a,
                        "text": f"{describe_entity(a.split('.')[0])}: {describe_action(a)}",
                    }
                    for a in actions
                ],
                "entities": [{"value": e, "text": describe_entity(e)} for e in entities],
                "values": params,
            }
            try:
                query = parse_audit_query(params)
            except Refused as refused:
                return page.render(
                    "admin/audit_log.html", errors=refused.by_field("who"), **context
                )
            found: AuditPage = await search_audit(page.session, query, tz=tz)
            filters = query.params()

            def page_link(number: int) -> str:
                return "/admin/audit?" + urlencode({**filters, "page": str(number)})

            return page.render(
                "admin/audit_log.html",
                found=found,
                filtered=bool(filters),
                rows=[
                    {
                        "event": event,
                        "what": describe_action(event.action),
                        "record": describe_entity(event.entity),
                        "link": record_link(event.entity, event.entity_id),
                        "details": audit_details(event),
                    }
                    for event in found.events
                ],
                previous=page_link(found.page - 1) if found.page > 1 else None,
                next=page_link(found.page + 1) if found.page < found.pages else None,
                **context,
            )

    return router
