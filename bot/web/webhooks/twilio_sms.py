"""Texts from experts: Twilio's inbound SMS webhook, answered with TwiML.

The answer (if any) goes back in the response, so Twilio sends it from the same number at
once. A repeat of a MessageSid we already have is answered with an empty response: the
person hears from us once.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from bot.bootstrap import App
from bot.services.listening import Inbound, hear
from bot.web.webhooks.twilio_signature import SID, verified_form
from store.enums import Channel

log = logging.getLogger(__name__)

PATH = "/webhooks/twilio/sms"
_KEYWORDS = frozenset({"STOP", "START", "HELP"})
MAX_TEXT = 1600  # Twilio's own limit for one message


def twilio_sms_router(built: App) -> APIRouter:
    router = APIRouter()

    @router.post(PATH, include_in_schema=False)
    async def twilio_sms(request: Request) -> Response:
        """Verify, store, understand; answer in TwiML."""
        fields = await verified_form(request, built.settings, PATH)
        if isinstance(fields, Response):
            if fields.status_code == 403:
                log.warning("rejected an inbound SMS webhook without a good signature")
            return fields
        inbound = _parse(fields, built)
        if inbound is None:
            return Response(status_code=400)
        heard = await hear(built.sessions, inbound, built.listening())
        return twiml(heard.answer)

    return router


def twiml(answer: str | None) -> Response:
    response = MessagingResponse()
    if answer:
        response.message(answer)
    return Response(str(response), media_type="application/xml")


def _parse(fields: dict[str, str], built: App) -> Inbound | None:
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    sender = (fields.get("From") or "").strip()
    body = fields.get("Body")
    if not SID.fullmatch(sid) or not sender or len(sender) > 40 or body is None:
        return None
    if len(body) > MAX_TEXT:
        return None
    if not body.strip() and fields.get("NumMedia", "0").strip() not in ("", "0"):
        body = "[a picture or file, which Linkline does not keep]"
    keyword = (fields.get("OptOutType") or "").strip().upper()
    return Inbound(
        channel=Channel.SMS,
        provider_ref=f"twilio:{sid}",
        sender=sender,
        text=body,
        received_at=built.clock.now(),
        provider_keyword=keyword if keyword in _KEYWORDS else None,
    )
