"""Telegram's webhook: updates are believed only with our secret token.

Telegram sends X-Telegram-Bot-Api-Secret-Token with every update once `linkline telegram
set-webhook` has registered it; the comparison is constant-time. A refused or malformed
request is a 4xx and nothing of it is stored. A repeat of an update_id is handled once
(the listening rules dedupe on it).

python-telegram-bot builds an Update from whatever JSON it is given: a chat id that is a
string, text that is a number, a button's data that is a list. A handler would then file
the message under a made-up sender, or fail and answer 500, which Telegram retries for
hours. So the parts of an update Linkline reads are checked against the Bot API's types
first, and anything else is a 400.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings
from bot.web.readiness import Readiness
from bot.web.webhooks.bodies import read_body
from bot.web.webhooks.telegram_app import take_failure
from scheduling.rules.characters import typeable

log = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
MAX_BODY_BYTES = 65_536  # an update with a long message is a few kB
MAX_ID = 2**53  # Bot API: ids have at most 52 significant bits


def telegram_router(
    settings: Settings,
    application: Application[Any, Any, Any, Any, Any, Any] | None,
    ready: Readiness,
) -> APIRouter:
    router = APIRouter()

    @router.post(PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        secret = settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if (
            application is None
            or secret is None
            or not secrets.compare_digest(
                given.encode("utf-8", "replace"), secret.get_secret_value().encode()
            )
        ):
            log.warning("rejected a Telegram webhook call without the secret token")
            return Response(status_code=403)
        if not ready.telegram:
            return Response(status_code=503)  # the bot is still starting: Telegram retries
        data = await _read_json(request)
        if isinstance(data, Response):
            return data
        try:
            update = Update.de_json(data, application.bot)
        except Exception:
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        await application.process_update(update)
        if take_failure(application, update.update_id):
            return Response(status_code=500)
        return Response(status_code=200)

    return router


async def _read_json(request: Request) -> dict[str, Any] | Response:
    body = await read_body(request, "application/json", MAX_BODY_BYTES)
    if isinstance(body, int):
        return Response(status_code=body)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):  # deep nesting: RecursionError
        return Response(status_code=400)
    if not isinstance(data, dict) or not _is_id(data.get("update_id")) or data["update_id"] < 0:
        return Response(status_code=400)
    if not _well_formed(data) or not _utf8(data) or not _all_typed(data):
        return Response(status_code=400)
    return data


# The fields of an update that Linkline reads, as the Bot API types them. A shape is
# (required fields, optional fields); a list of one shape is an array of it.
Fields = dict[str, Any]
Shape = tuple[Fields, Fields]
_USER: Shape = ({"id": int, "is_bot": bool, "first_name": str}, {})
_CHAT: Shape = ({"id": int, "type": str}, {})
_ENTITY: Shape = ({"type": str, "offset": int, "length": int}, {})
_MESSAGE: Shape = (
    {"message_id": int, "date": int, "chat": _CHAT},
    {"from": _USER, "text": str, "caption": str, "entities": [_ENTITY]},
)
_CALLBACK: Shape = (
    {"id": str, "from": _USER, "chat_instance": str},
    {"data": str, "message": _MESSAGE},
)
_MESSAGE_KINDS = (  # every kind a MessageHandler is given
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "guest_message",
)


def _well_formed(update: dict[str, Any]) -> bool:
    shapes = [(kind, _MESSAGE) for kind in _MESSAGE_KINDS] + [("callback_query", _CALLBACK)]
    return all(_fits(update[key], shape) for key, shape in shapes if key in update)


def _fits(value: Any, shape: Any) -> bool:
    if shape is int:
        return _is_id(value)
    if shape is bool or shape is str:
        return isinstance(value, shape)
    if isinstance(shape, list):
        return isinstance(value, list) and all(_fits(item, shape[0]) for item in value)
    required, optional = shape
    if not isinstance(value, dict):
        return False
    return all(key in value and _fits(value[key], kind) for key, kind in required.items()) and all(
        _fits(value[key], kind) for key, kind in optional.items() if key in value
    )


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_ID < value < MAX_ID


def _utf8(data: dict[str, Any]) -> bool:
    """No lone surrogate (a ``\\ud800`` escape): Telegram sends UTF-8, and one would fail
    only when the reply is stored."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        return False
    return True


def _all_typed(data: dict[str, Any]) -> bool:
    try:
        return _typed(data)
    except RecursionError:  # nesting deep enough to matter is not an update
        return False


def _typed(value: Any) -> bool:
    """No NUL or other control character in any string (PostgreSQL refuses NUL in text);
    line breaks and tabs are what a chat message can hold."""
    if isinstance(value, str):
        return typeable(value, multi_line=True)
    if isinstance(value, dict):
        return all(_typed(key) and _typed(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_typed(item) for item in value)
    return True
