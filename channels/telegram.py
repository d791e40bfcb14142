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
import logging
import re
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
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
from store.enums import Channel

TELEGRAM_BASE_URL = "https://api.telegram.org/bot"  # PTB appends the token
TOKEN_HINT = "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN"
MAX_BODY_CHARS = 4096
BUTTONS_PER_ROW = 3  # yes / no / maybe fit one row; 1..5 + Pass make two rows of three
_SHORT_LABEL = 16  # a longer label gets a row of its own, so it is not cut off on a phone
# A chat id is an optionally negative integer (groups are negative). Stricter than int(),
# which would also accept "1_000" or surrounding spaces.
_CHAT_ID = re.compile(r"-?[0-9]{1,20}")
# Transport failures that prove the request never reached Telegram: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers to a call that Telegram (or its front end) may have acted on before failing. 503
# and 429 are refusals before any work, so they stay transient.
_MAYBE_PROCESSED = frozenset({500, 502, 504})
_REDACTED_LOGGERS = (
    "telegram.Bot",  # each call's parameters and return value, at DEBUG
    "telegram.request.BaseRequest",  # a reply that is not JSON, in full, at ERROR
    "telegram.request.HTTPXRequest",
    "httpx",  # request URLs, which hold the bot token, at INFO
)


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
        self._spacing = _ChatSpacing(config.per_chat_interval)
        self._overall = _OverallRate(config.overall_per_second)
        self._ready_lock = asyncio.Lock()
        self._bot: Bot | None = None
        self._initialised = False
        self._log_filter = _RedactingFilter(config.bot_token)

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
            await self._overall.wait()
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
                _remove_filter(self._log_filter)

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
                "Telegram asked us to slow down", code="flood", retry_after=_retry_after(exc)
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
            raise _translate(exc, self.config.bot_token) from exc
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
                _install_filter(self._log_filter)  # Bot() itself logs its URL, token included
                self._bot = Bot(
                    self.config.bot_token,
                    base_url=self.config.base_url,
                    request=_Request(connection_pool_size=max(8, self.config.overall_per_second)),
                )
            if not self._initialised:
                await self._bot.initialize()
                self._initialised = True
            return self._bot


class _MaybeProcessed(NetworkError):
    """Telegram answered 500, 502 or 504: it may have delivered the message first."""


class _Request(HTTPXRequest):
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
            raise _MaybeProcessed(f"Telegram answered HTTP {code}")
        return code, payload


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


def _translate(exc: TelegramError, token: str) -> ChannelError:
    """Say what the dispatcher should do next. Order matters: BadRequest and TimedOut are
    subclasses of NetworkError."""
    said = _described(exc, token)
    if isinstance(exc, RetryAfter):
        return TransientError(
            "Telegram asked us to slow down", code="flood", retry_after=_retry_after(exc)
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
    if isinstance(exc, _MaybeProcessed):
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
    return _described(exc, token)


@contextmanager
def redacted_logs(token: str) -> Iterator[None]:
    """Keep the bot token, chat ids and texts out of PTB's and httpx's logs meanwhile."""
    log_filter = _RedactingFilter(token)
    _install_filter(log_filter)
    try:
        yield
    finally:
        _remove_filter(log_filter)


def _described(exc: TelegramError, token: str) -> str:
    """Telegram's own description, safe to store: no token, no echoed reply body (PTB
    quotes an unreadable reply in full, and it could hold the chat id or text), kept short."""
    said = exc.message.split(". Parsing the server response", 1)[0]
    return said.replace(token, "<token>")[:200]


def _retry_after(exc: RetryAfter) -> timedelta:
    # PTB 22.2+ warns when retry_after is read as an int; it may be either, by PTB_TIMEDELTA.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class _ChatSpacing:
    """One message at a time per chat, each at least ``interval`` after the previous one
    finished, so the gap Telegram (and the person) sees is never shorter."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._chats: dict[int, _ChatSlot] = {}

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        if len(self._chats) > 256:
            self._forget_idle()
        slot = self._chats.setdefault(chat_id, _ChatSlot())
        slot.users += 1
        try:
            async with slot.lock:
                wait = slot.last + self._interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    yield
                finally:
                    slot.last = time.monotonic()  # failures count too: Telegram saw them
        finally:
            slot.users -= 1

    def _forget_idle(self) -> None:
        """Drop chats nobody is waiting for and whose spacing has passed, to bound memory."""
        horizon = time.monotonic() - self._interval
        for chat_id in [k for k, s in self._chats.items() if not s.users and s.last <= horizon]:
            del self._chats[chat_id]


@dataclass
class _ChatSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")
    users: int = 0


class _OverallRate:
    """At most ``per_second`` sends start in any one-second window (Telegram's bot-wide
    limit), as a sliding window: simple, exact, and fair in arrival order."""

    def __init__(self, per_second: int) -> None:
        self._per_second = per_second
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            while len(self._starts) >= self._per_second:
                wait = self._starts[0] + 1.0 - time.monotonic()
                if wait <= 0:
                    self._starts.popleft()
                else:
                    await asyncio.sleep(wait)
            self._starts.append(time.monotonic())


class _RedactingFilter(logging.Filter):
    """PTB logs each call's parameters (chat id, text) at DEBUG and httpx logs request
    URLs, which hold the bot token, at INFO. Keep the record, drop what must not be kept."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "telegram.Bot" and str(record.msg).startswith(
            ("Calling Bot API endpoint", "Call to Bot API endpoint")
        ):
            endpoint = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = "Bot API call `%s` (parameters not logged)", (endpoint,)
        elif record.name.startswith("telegram.request") and "JSON" in str(record.msg):
            # PTB quotes the whole unreadable reply, which echoes the chat, text and name.
            record.msg, record.args = "Telegram sent a reply that is not JSON (not logged)", ()
            record.exc_info, record.exc_text = None, None
        text = record.getMessage()
        if self._token in text:
            record.msg, record.args = text.replace(self._token, "<token>"), ()
        return True


def _install_filter(log_filter: logging.Filter) -> None:
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)


def _remove_filter(log_filter: logging.Filter) -> None:
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).removeFilter(log_filter)
