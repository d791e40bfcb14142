"""Talking to Telegram's Bot API for `linkline telegram`: a started bot, and its failures
in words a person can act on, never quoting the token. Imported only by the commands that
talk to Telegram, so the CLI's help does not load python-telegram-bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channel_setup import telegram_base_url
from bot.settings import Settings
from channels.telegram_errors import describe_error
from channels.telegram_logs import redacted_logs
from store.errors import Refused


class TelegramProblem(Refused):
    """Telegram refused, or could not be reached; the message is safe to print."""


@asynccontextmanager
async def open_bot(settings: Settings, token: str) -> AsyncIterator[Bot]:
    """A started bot (getMe done), with failures turned into TelegramProblem."""
    with redacted_logs(token):
        try:
            bot = Bot(
                token,
                base_url=telegram_base_url(settings.telegram_api_base_url),
                request=HTTPXRequest(connect_timeout=10.0, read_timeout=20.0),
            )
            async with bot:
                yield bot
        except TelegramError as exc:
            raise TelegramProblem(_explain(exc, token, settings)) from None


def _explain(exc: TelegramError, token: str, settings: Settings) -> str:
    said = describe_error(exc, token)
    if isinstance(exc, InvalidToken):
        return said  # already says to check TELEGRAM_BOT_TOKEN
    if isinstance(exc, RetryAfter):
        return "Telegram asked us to slow down: wait a minute and try again"
    if isinstance(exc, BadRequest | Forbidden):
        return f"Telegram refused it: {said}"
    if isinstance(exc, TimedOut | NetworkError):
        where = (
            f"{settings.telegram_api_base_url} (TELEGRAM_API_BASE_URL)"
            if settings.telegram_api_base_url
            else "Telegram"
        )
        return f"could not reach {where} ({said}): check the connection and try again"
    return f"Telegram said: {said}"
