"""Telegram through the Bot API (python-telegram-bot), with our own per-chat throttle.

Why our own throttle: Telegram allows about one message per second to one chat and about
30 per second overall, and answers bursts with 429. PTB's ``AIORateLimiter`` limits groups
and the bot overall, but not a private chat, and a private chat is exactly what we write
to. A burst to one person is harm in itself here, so sends to one chat are serialised and
spaced, whatever the dispatcher does.

Privacy: the chat id and the text are never logged, never put in an error's detail and
never used in a provider id (provider ids are stored in plain text). PTB logs every call's
parameters and return value at DEBUG, logs the whole reply body (chat id, text, the
person's name) when a reply is not valid JSON, and httpx logs URLs that contain the bot
token at INFO, so while a bot is live a filter on those loggers redacts them.

Messages are plain text (no ``parse_mode``): nothing in a body can be read as markup, and
``protect_content`` stops the message being forwarded or saved from the person's phone.
A message with ``buttons`` carries them as an inline keyboard (quick answers the person
can tap); Telegram shows them only inside the chat, never on the lock screen.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import InvalidToken, RetryAfter, TelegramError

from channels.base import (
    Button,
    ChannelError,
    ChannelLimits,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    Receipt,
    TransientError,
)
from channels.telegram_errors import TOKEN_HINT, TelegramRequest, retry_after_of, translate
from channels.telegram_logs import RedactingFilter, install_filter, remove_filter
from channels.telegram_pace import ChatSpacing, OverallRate
from store.enums import Channel

TELEGRAM_BASE_URL = "https://api.telegram.org/bot"  # PTB appends the token
MAX_BODY_CHARS = 4096
BUTTONS_PER_ROW = 3  # yes / no / maybe fit one row; 1..5 + Pass make two rows of three
_SHORT_LABEL = 16  # a longer label gets a row of its own, so it is not cut off on a phone
# A chat id is an optionally negative integer (groups are negative). Stricter than int(),
# which would also accept "1_000" or surrounding spaces.
_CHAT_ID = re.compile(r"-?[0-9]{1,20}")


@dataclass(frozen=True)
class TelegramConfig:
    bot_token: str = field(repr=False)
    base_url: str = TELEGRAM_BASE_URL  # the token is appended by PTB
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    overall_per_second: int = 30  # messages per second for the whole bot

    def __post_init__(self) -> None:
        if not self.bot_token:
            raise ValueError("a Telegram bot token is needed")
        if self.per_chat_interval < 0 or self.overall_per_second < 1:
            raise ValueError("per_chat_interval must be >= 0 and overall_per_second >= 1")


class TelegramChannel:
    """Sends plain-text Telegram messages to one chat id per person."""

    kind = Channel.TELEGRAM
    live = True
    lookup_is_conclusive = False  # the Bot API cannot list what a bot has sent

    def __init__(
        self, config: TelegramConfig, *, now: Callable[[], datetime] | None = None
    ) -> None:
        self.config = config
        self.limits = ChannelLimits(max_body_chars=MAX_BODY_CHARS)
        self._now = now or (lambda: datetime.now(UTC))
        self._spacing = ChatSpacing(config.per_chat_interval)
        self._overall = OverallRate(config.overall_per_second)
        self._ready_lock = asyncio.Lock()
        self._bot: Bot | None = None
        self._initialised = False
        self._log_filter = RedactingFilter(config.bot_token)

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """Telegram delivers within seconds of sending."""
        return send_at

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Send once, after the per-chat and overall throttles; map every failure."""
        chat_id = _chat_id(message.to)
        if not message.body.strip():
            raise PermanentError("the message is empty", code="empty")
        if len(message.body) > MAX_BODY_CHARS:
            raise PermanentError("the message is longer than Telegram allows", code="too_long")
        self._check_window(message)
        async with self._spacing.turn(chat_id):
            # getMe on first use sends nothing: any failure there is safe to retry.
            bot = await self._ready()
            async with self._overall.slot():
                # Waiting for a turn (and getMe) takes time: check again so a message never
                # lands late.
                self._check_window(message)
                sent = await self._send_once(bot, chat_id, message)
        return Receipt(provider_id=f"tg-{sent.message_id}")

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        """The Bot API has no way to find a sent message, so this never knows."""
        return None

    async def aclose(self) -> None:
        """Shut the bot's HTTP client down; safe to call more than once."""
        bot, self._bot = self._bot, None
        self._initialised = False
        if bot is not None:
            try:
                await bot.shutdown()
            finally:
                remove_filter(self._log_filter)

    def _check_window(self, message: OutgoingMessage) -> None:
        deadline = message.deliver_before
        if deadline is None:
            return
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=UTC)
        if self._now() >= deadline:
            raise TransientError("outside the person's safe hours: not sent", code="too_late")

    async def _ready(self) -> Bot:
        """The bot, after getMe. Nothing has been sent yet, so every failure is transient."""
        try:
            return await self._ready_bot()
        except InvalidToken:
            # PTB's message quotes the token: keep it out of any stored traceback.
            raise TransientError(TOKEN_HINT, code="invalid_token") from None
        except RetryAfter as exc:
            raise TransientError(
                "Telegram asked us to slow down", code="flood", retry_after=retry_after_of(exc)
            ) from None
        except Exception as exc:  # TelegramError or a library bug: nothing was sent
            raise TransientError(
                f"could not start the Telegram bot ({type(exc).__name__}); nothing was sent",
                code="not_ready",
            ) from None

    async def _send_once(self, bot: Bot, chat_id: int, message: OutgoingMessage) -> Message:
        try:
            sent = await bot.send_message(
                chat_id=chat_id,
                text=message.body,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                protect_content=True,
                reply_markup=keyboard(message.buttons),
            )
            if not isinstance(sent, Message):
                # Telegram said ok but gave no message back: it may well have arrived.
                raise OutcomeUnknown(
                    f"Telegram answered without a message ({type(sent).__name__})",
                    code="maybe_sent",
                )
            return sent
        except ChannelError:
            raise
        except InvalidToken:
            # PTB's message quotes the token: keep it out of any stored traceback.
            raise TransientError(TOKEN_HINT, code="invalid_token") from None
        except TelegramError as exc:
            raise translate(exc, self.config.bot_token) from exc
        except Exception as exc:  # a library bug must leave the message waiting, not lost
            raise OutcomeUnknown(
                f"unexpected error from the Telegram library ({type(exc).__name__})",
                code="maybe_sent",
            ) from exc

    async def _ready_bot(self) -> Bot:
        """Build the bot inside the running loop (its HTTP client belongs to it) and run
        getMe once; a failed getMe is retried on the next send."""
        async with self._ready_lock:
            if self._bot is None:
                install_filter(self._log_filter)  # Bot() itself logs its URL, token included
                self._bot = Bot(
                    self.config.bot_token,
                    base_url=self.config.base_url,
                    request=TelegramRequest(
                        connection_pool_size=max(8, self.config.overall_per_second)
                    ),
                )
            if not self._initialised:
                await self._bot.initialize()
                self._initialised = True
            return self._bot


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard: up to three short ones in one row, more in balanced
    rows of at most three (1..5 + Pass: two rows of three), and any long label alone on
    its row. None without buttons, so no markup is sent at all."""
    if not buttons:
        return None
    if any(len(b.label) > _SHORT_LABEL for b in buttons):
        rows = [[b] for b in buttons]
    else:
        count = -(-len(buttons) // BUTTONS_PER_ROW)  # rows needed
        width = -(-len(buttons) // count)  # spread evenly: 4 gives 2 + 2, not 3 + 1
        rows = [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


def _chat_id(to: str) -> int:
    if not _CHAT_ID.fullmatch(to):
        raise PermanentError("the Telegram chat id is not a number", code="bad_chat_id")
    return int(to)
