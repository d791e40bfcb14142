"""Twilio's status callbacks: the only way we learn whether a text actually arrived.

Anyone can POST to a public URL, so nothing is read or stored until the X-Twilio-Signature
checks out against the *configured* public URL (never the URL the request claims, which a
proxy may have rewritten). Callbacks arrive late, twice, and out of order, so a status
only ever moves forward, and only the callback for the message's current send may move
the message itself.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from twilio.request_validator import RequestValidator

from bot.bootstrap import App
from scheduling.delivery_reports import KNOWN_STATUSES, DeliveryReport, apply_delivery_report

log = logging.getLogger(__name__)

PATH = "/webhooks/twilio/status"
MAX_BODY_BYTES = 16_384  # a real callback is well under 1 kB


def twilio_status_router(built: App) -> APIRouter:
    """The status-callback endpoint, bound to this app's settings, database and clock."""
    router = APIRouter()

    @router.post(PATH, include_in_schema=False)
    async def twilio_status(request: Request) -> Response:
        """Verify, then record; every refusal is a 4xx so Twilio never retries garbage."""
        validator = _validator(built)
        signature = request.headers.get("X-Twilio-Signature")
        if validator is None or not signature:
            return Response(status_code=403)
        params, problem = await _read_form(request)
        if params is None:
            return Response(status_code=problem)
        url = (built.settings.public_url or "").rstrip("/") + PATH
        if not validator.validate(url, _MultiDict(params), signature):
            log.warning("rejected a Twilio status callback with a bad signature")
            return Response(status_code=403)
        callback = _parse(params)
        if callback is None:
            return Response(status_code=400)
        async with built.sessions.begin() as session:
            await apply_delivery_report(session, callback, built.clock.now())
        return Response(status_code=204)

    return router


def _validator(built: App) -> RequestValidator | None:
    token = built.settings.twilio_auth_token
    secret = token.get_secret_value().strip() if token else ""
    if not secret or not (built.settings.public_url or "").strip():
        return None  # cannot check a signature, so nothing is believed
    return RequestValidator(secret)


async def _read_form(request: Request) -> tuple[list[tuple[str, str]] | None, int]:
    """The urlencoded form as Twilio sent it, keeping repeats, or the 4xx to answer."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None, 415
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None, 413
    try:
        text = body.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)), 200
    except (UnicodeDecodeError, ValueError):
        return None, 400


class _MultiDict(dict[str, list[str]]):
    """What RequestValidator reads: every value of a repeated field, as Twilio signs them."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        for key, value in pairs:
            self.setdefault(key, []).append(value)

    def getall(self, key: str) -> list[str]:
        return self[key]


def _parse(params: list[tuple[str, str]]) -> DeliveryReport | None:
    fields = dict(params)
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
    if not sid or len(sid) > 120 or status not in KNOWN_STATUSES:
        return None
    code = (fields.get("ErrorCode") or "").strip() or None
    return DeliveryReport(provider_id=sid, status=status, error_code=code[:10] if code else None)
