"""Believing a request came from Twilio: the X-Twilio-Signature, checked before anything.

The signature is computed against the *configured* public URL (never the URL the request
claims, which a proxy may have rewritten). Every refusal is a 4xx, so Twilio does not
retry garbage, and nothing from a refused request is read further or stored.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from fastapi import Request, Response
from twilio.request_validator import RequestValidator

from bot.settings import Settings
from bot.web.webhooks.bodies import read_body
from scheduling.rules.characters import typeable

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16_384  # a real webhook is well under 2 kB
SID = re.compile(r"[A-Za-z]{2}[A-Za-z0-9]{10,62}")  # a Twilio message id: SM…, MM…
MULTI_LINE = frozenset({"Body"})  # a text may hold line breaks; no other field does


async def verified_form(
    request: Request, settings: Settings, path: str
) -> dict[str, str] | Response:
    """The form fields of a genuine Twilio request, or the refusal to answer with."""
    validator = _validator(settings)
    signature = request.headers.get("X-Twilio-Signature")
    if validator is None or not signature:
        return Response(status_code=403)
    params, problem = await _read_form(request)
    if params is None:
        return Response(status_code=problem)
    url = (settings.public_url or "").rstrip("/") + path
    if not validator.validate(url, _MultiDict(params), signature):
        return Response(status_code=403)
    if not all(
        typeable(key) and typeable(value, multi_line=key in MULTI_LINE) for key, value in params
    ):
        # A NUL would fail in the database (a 500, which Twilio retries for a day). Said in
        # the log, without the text, as a genuine message is refused here.
        log.warning("refused a signed Twilio request holding a control character")
        return Response(status_code=400)
    return dict(params)


def _validator(settings: Settings) -> RequestValidator | None:
    token = settings.twilio_auth_token
    secret = token.get_secret_value().strip() if token else ""
    if not secret or not (settings.public_url or "").strip():
        return None  # cannot check a signature, so nothing is believed
    return RequestValidator(secret)


async def _read_form(request: Request) -> tuple[list[tuple[str, str]] | None, int]:
    """The urlencoded form as Twilio sent it, keeping repeats, or the 4xx to answer."""
    body = await read_body(request, "application/x-www-form-urlencoded", MAX_BODY_BYTES)
    if isinstance(body, int):
        return None, body
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
