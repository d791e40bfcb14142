"""What Telegram's failures mean for the dispatcher, said without the bot token.

Each failure becomes try again (nothing was sent), try the next channel (it never will
be), or nobody knows (a person checks). PTB turns every 5xx into the same NetworkError,
so our transport tells 500/502/504 (maybe acted on) apart from refusals before any work.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from channels.base import ChannelError, OutcomeUnknown, PermanentError, TransientError

TOKEN_HINT = "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN"
# Transport failures that prove the request never reached Telegram: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers to a call that Telegram (or its front end) may have acted on before failing. 503
# and 429 are refusals before any work, so they stay transient.
_MAYBE_PROCESSED = frozenset({500, 502, 504})


class MaybeProcessed(NetworkError):
    """Telegram answered 500, 502 or 504: it may have delivered the message first."""


class TelegramRequest(HTTPXRequest):
    """PTB's HTTPX transport, telling a 500/502/504 apart from other server errors (PTB
    turns all of them into the same NetworkError)."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code in _MAYBE_PROCESSED:
            raise MaybeProcessed(f"Telegram answered HTTP {code}")
        return code, payload


def translate(exc: TelegramError, token: str) -> ChannelError:
    """Say what the dispatcher should do next. Order matters: BadRequest and TimedOut are
    subclasses of NetworkError."""
    said = described(exc, token)
    if isinstance(exc, RetryAfter):
        return TransientError(
            "Telegram asked us to slow down", code="flood", retry_after=retry_after_of(exc)
        )
    if isinstance(exc, Forbidden):
        return _forbidden(said)
    if isinstance(exc, BadRequest):
        if "chat not found" in said.lower():
            # Wrong or never-linked chat id: the person did not say no, so no opt-out.
            return PermanentError("Telegram has no chat with this id", code="chat_not_found")
        return PermanentError(f"Telegram refused the message: {said}", code="bad_request")
    if isinstance(exc, ChatMigrated):
        return PermanentError("the Telegram group moved to a new chat id", code="migrated")
    if isinstance(exc, MaybeProcessed):
        return OutcomeUnknown(f"Telegram failed while sending: {said}", code="maybe_sent")
    if isinstance(exc, TimedOut | NetworkError):
        # No cause: Telegram itself answered with an error, so nothing was sent.
        if exc.__cause__ is None or isinstance(exc.__cause__, _NOT_SENT):
            return TransientError(f"could not reach Telegram: {said}", code="not_sent")
        # The request may have arrived: Telegram has no way to ask, so a person checks.
        return OutcomeUnknown(f"no answer from Telegram: {said}", code="maybe_sent")
    return OutcomeUnknown(f"unexpected Telegram error ({type(exc).__name__})", code="maybe_sent")


def _forbidden(said: str) -> PermanentError:
    lowered = said.lower()
    if "blocked by the user" in lowered:
        return PermanentError(
            "the person blocked the bot",
            code="blocked",
            opt_out_reason="blocked the bot on Telegram",
        )
    if "user is deactivated" in lowered:
        return PermanentError(
            "the Telegram account is closed",
            code="deactivated",
            opt_out_reason="closed their Telegram account",
        )
    # e.g. the person never pressed Start: the link is missing, they did not say no.
    return PermanentError(f"Telegram will not let the bot write here: {said}", code="forbidden")


def describe_error(exc: TelegramError, token: str) -> str:
    """Telegram's own words about a failure, safe to show a person or store: no token, no
    echoed reply body. For tools (the CLI) that talk to the Bot API outside a channel."""
    if isinstance(exc, InvalidToken):
        return TOKEN_HINT  # PTB's message quotes the token
    return described(exc, token)


def described(exc: TelegramError, token: str) -> str:
    """Telegram's own description, safe to store: no token, no echoed reply body (PTB
    quotes an unreadable reply in full, and it could hold the chat id or text), kept short."""
    said = exc.message.split(". Parsing the server response", 1)[0]
    return said.replace(token, "<token>")[:200]


def retry_after_of(exc: RetryAfter) -> timedelta:
    # PTB 22.2+ warns when retry_after is read as an int; it may be either, by PTB_TIMEDELTA.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
