"""Twilio's status callbacks: the only way we learn whether a text actually arrived.

Anyone can POST to a public URL, so nothing is read or stored until the X-Twilio-Signature
checks out against the *configured* public URL (never the URL the request claims, which a
proxy may have rewritten). Callbacks arrive late, twice, and out of order, so a status
only ever moves forward, and only the callback for the message's current send may move
the message itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.request_validator import RequestValidator

from bot.bootstrap import App
from scheduling.decisions import Finish
from scheduling.handoff import hand_to_person
from scheduling.outbox import load_message
from store.enums import AttemptOutcome, Channel, MessageStatus, TaskKind
from store.models import DeliveryAttempt, Message

log = logging.getLogger(__name__)

PATH = "/webhooks/twilio/status"
MAX_BODY_BYTES = 16_384  # a real callback is well under 1 kB
RETRY_DELAY = timedelta(minutes=15)
MAX_HANDSET_RETRIES = 3

# How far along each status is; a callback never moves a send backwards.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
    "read": 4,
}
FINAL_RANK = 3
FAILED_STATUSES = frozenset({"undelivered", "failed"})
HANDSET_CODES = frozenset({"30003", "30008"})  # phone off or out of signal: try again later
# 30007 (carrier filtered the content) is left out: it says nothing about the number.
UNREACHABLE_CODES = frozenset({"30005", "30006"})
OPT_OUT_CODE = "21610"


@dataclass(frozen=True)
class StatusCallback:
    sid: str
    status: str
    error_code: str | None


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
            await _apply(session, callback, built.clock.now())
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


def _parse(params: list[tuple[str, str]]) -> StatusCallback | None:
    fields = dict(params)
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
    if not sid or len(sid) > 120 or status not in _RANK:
        return None
    code = (fields.get("ErrorCode") or "").strip() or None
    return StatusCallback(sid=sid, status=status, error_code=code[:10] if code else None)


async def _apply(session: AsyncSession, callback: StatusCallback, now: datetime) -> None:
    found = await session.execute(
        select(DeliveryAttempt.id, DeliveryAttempt.message_id)
        .where(DeliveryAttempt.provider_id == callback.sid)
        .order_by(DeliveryAttempt.id.desc())
        .limit(1)
        .with_for_update()  # two callbacks for one text must not race (PostgreSQL)
    )
    row = found.first()
    if row is None:
        log.info("Twilio status for an unknown message id; ignored")
        return  # a 2xx all the same, so Twilio stops retrying
    # Load the message before touching anything: load_message refreshes what it loads,
    # which would otherwise overwrite a change made here first.
    message = await load_message(session, row.message_id)
    attempt = next((a for a in message.attempts_log if a.id == row.id), None) if message else None
    if message is None or attempt is None:
        return
    current = _RANK.get(attempt.provider_status or "", -1)
    if current >= FINAL_RANK or _RANK[callback.status] <= current:
        return  # late or repeated: the send already moved past this
    attempt.provider_status = callback.status
    if message.status is not MessageStatus.SENT or message.provider_id != callback.sid:
        return  # only the callback for the current send may move the message
    await _move_message(session, message, attempt, callback, now)


async def _move_message(
    session: AsyncSession,
    message: Message,
    attempt: DeliveryAttempt,
    callback: StatusCallback,
    now: datetime,
) -> None:
    if callback.status == "delivered":
        message.move(MessageStatus.DELIVERED, "the phone network confirmed delivery", now)
    elif callback.status in FAILED_STATUSES:
        await _failed(session, message, attempt, callback.error_code, now)


async def _failed(
    session: AsyncSession,
    message: Message,
    attempt: DeliveryAttempt,
    code: str | None,
    now: datetime,
) -> None:
    """Decide what an undelivered text means for the person: wait, re-route, or ask staff."""
    attempt.finished_at = attempt.finished_at or now
    if code in HANDSET_CODES:
        await _retry_later(session, message, attempt, code, now)
        return
    attempt.outcome = AttemptOutcome.PERMANENT_FAILURE
    if code == OPT_OUT_CODE:
        _opt_out(message, "replied STOP", now)
        attempt.error = f"Twilio {code}: the number replied STOP"
    elif code in UNREACHABLE_CODES:
        _opt_out(message, "number unreachable", now)
        attempt.error = f"Twilio {code}: the number cannot get texts"
    else:
        attempt.error = f"Twilio {code or 'no code'}: text not delivered"
    message.last_error = attempt.error
    message.next_attempt_at = now  # the next pass routes it to the next channel
    message.move(MessageStatus.PENDING, f"sms not delivered: {attempt.error}", now)


async def _retry_later(
    session: AsyncSession, message: Message, attempt: DeliveryAttempt, code: str, now: datetime
) -> None:
    """Phone off or out of signal: try again in a while, but not for ever."""
    earlier = sum(
        1
        for a in message.attempts_log
        if a.id != attempt.id
        and a.channel is Channel.SMS
        and a.outcome is AttemptOutcome.TRANSIENT_FAILURE
        and a.provider_status in FAILED_STATUSES
    )
    attempt.outcome = AttemptOutcome.TRANSIENT_FAILURE
    attempt.error = message.last_error = f"Twilio {code}: the phone could not be reached"
    if earlier >= MAX_HANDSET_RETRIES:
        reason = f"the phone could not be reached after {earlier + 1} texts"
        finish = Finish(MessageStatus.FAILED, reason, TaskKind.DELIVERY_PROBLEM)
        message.move(MessageStatus.FAILED, reason, now)
        await hand_to_person(session, message, finish, now)
        return
    message.next_attempt_at = now + RETRY_DELAY
    message.move(MessageStatus.PENDING, f"will try again: {attempt.error}", now)


def _opt_out(message: Message, reason: str, now: datetime) -> None:
    """Mark the SMS contact point unusable so no rule ever routes a text there again."""
    for point in message.expert.contact_points:
        if point.channel is Channel.SMS and point.opted_out_at is None:
            point.opted_out_at = now
            point.opt_out_reason = reason
