"""Twilio's status callbacks: the only way we learn whether a text actually arrived.

Anyone can POST to a public URL, so nothing is read or stored until the X-Twilio-Signature
checks out (see bot.web.webhooks.twilio_signature). Callbacks arrive late, twice, and out of
order, so a status only ever moves forward, and only the callback for the message's
current send may move the message itself.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from bot.bootstrap import App
from bot.web.webhooks.twilio_signature import SID, verified_form
from scheduling.sending.delivery_reports import (
    KNOWN_STATUSES,
    DeliveryReport,
    apply_delivery_report,
)

log = logging.getLogger(__name__)

PATH = "/webhooks/twilio/status"


def twilio_status_router(built: App) -> APIRouter:
    """The status-callback endpoint, bound to this app's settings, database and clock."""
    router = APIRouter()

    @router.post(PATH, include_in_schema=False)
    async def twilio_status(request: Request) -> Response:
        """Verify, then record; every refusal is a 4xx so Twilio never retries garbage."""
        fields = await verified_form(request, built.settings, PATH)
        if isinstance(fields, Response):
            if fields.status_code == 403:
                log.warning("rejected a Twilio status callback without a good signature")
            return fields
        callback = _parse(fields)
        if callback is None:
            return Response(status_code=400)
        async with built.sessions.begin() as session:
            await apply_delivery_report(session, callback, built.clock.now())
        return Response(status_code=204)

    return router


def _parse(fields: dict[str, str]) -> DeliveryReport | None:
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
    if not SID.fullmatch(sid) or status not in KNOWN_STATUSES:
        return None
    code = (fields.get("ErrorCode") or "").strip() or None
    return DeliveryReport(provider_id=sid, status=status, error_code=code[:10] if code else None)
