"""`linkline telegram`: connect the bot to Telegram, and see how that connection is doing.

Telegram delivers messages and button presses to our webhook; these commands set it up
and read back what Telegram knows. They use python-telegram-bot's ``Bot`` directly (no
database needed), pointed at TELEGRAM_API_BASE_URL when that is set. The bot token and
the webhook secret are never printed, and never appear in an error: PTB quotes the token
when Telegram refuses it, so every failure is re-worded here.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

import typer
from rich.markup import escape
from telegram import Bot, WebhookInfo
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
from bot.cli.common import console, err_console, fail, load_settings, local
from bot.settings import Settings
from channels.telegram_errors import describe_error
from channels.telegram_logs import redacted_logs
from store.errors import Refused

T = TypeVar("T")

app = typer.Typer(help="Telegram: connect the bot's webhook and check on it.", no_args_is_help=True)

# What Telegram sends us: messages (including /start <code>) and button presses.
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_BYTES = 32  # token_urlsafe: 43 characters of A-Za-z0-9_-, as Telegram allows


class TelegramProblem(Refused):
    """Telegram refused, or could not be reached; the message is safe to print."""


@app.command("set-webhook")
def set_webhook(
    drop_pending: bool = typer.Option(
        False,
        "--drop-pending",
        help="Throw away messages Telegram is still holding for the bot. Normally leave "
        "this off: those are people's messages.",
    ),
) -> None:
    """Tell Telegram to send messages and button presses to LINKLINE_PUBLIC_URL.

    Needs TELEGRAM_BOT_TOKEN, LINKLINE_PUBLIC_URL (https) and TELEGRAM_WEBHOOK_SECRET
    (`linkline telegram make-secret` makes one). Run it again after changing any of them.
    """
    settings = load_settings()
    missing = [
        name
        for name, value in (
            ("TELEGRAM_BOT_TOKEN", _token(settings)),
            ("LINKLINE_PUBLIC_URL", settings.public_url),
            ("TELEGRAM_WEBHOOK_SECRET", _secret(settings)),
        )
        if not value
    ]
    if missing:
        fail(
            f"{_and(missing)} {'is' if len(missing) == 1 else 'are'} not set: set "
            f"{'it' if len(missing) == 1 else 'them'} in the environment or .env, then run "
            "this again (`linkline telegram make-secret` makes a webhook secret)",
            2,
        )
    url = settings.telegram_webhook_url or ""
    if urlsplit(url).scheme != "https":
        fail(
            "LINKLINE_PUBLIC_URL must start with https:// because Telegram only delivers to "
            f"https addresses (it is {escape(settings.public_url or '')})",
            2,
        )

    async def action(bot: Bot) -> WebhookInfo:
        await bot.set_webhook(
            url=url,
            secret_token=_secret(settings),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending,
        )
        return await bot.get_webhook_info()

    info = _talk(settings, action, doing="set the webhook")
    console.print(
        f"Telegram accepted the webhook: messages and button presses now go to {escape(url)}",
        highlight=False,
    )
    _show_pending(info)


@app.command("webhook-info")
def webhook_info() -> None:
    """Show where Telegram sends messages, how many wait, and the last delivery error.

    Never shows the bot token or the webhook secret.
    """
    settings = load_settings()
    if not _token(settings):
        fail("TELEGRAM_BOT_TOKEN is not set: set it in the environment or .env", 2)

    async def action(bot: Bot) -> WebhookInfo:
        return await bot.get_webhook_info()

    info = _talk(settings, action, doing="read the webhook")
    if info.url:
        console.print(f"Webhook: {escape(info.url)}", highlight=False)
    else:
        console.print(
            "Webhook: none. Telegram is holding the bot's messages: run "
            "`linkline telegram set-webhook`.",
            highlight=False,
        )
    expected = settings.telegram_webhook_url
    if info.url and expected and info.url != expected:
        console.print(
            f"[yellow]Note:[/] LINKLINE_PUBLIC_URL says {escape(expected)}: run "
            "`linkline telegram set-webhook` to move the webhook there.",
            highlight=False,
        )
    if info.allowed_updates:
        console.print(f"Sends: {', '.join(info.allowed_updates)}", highlight=False)
    _show_pending(info)
    if info.last_error_message:
        when = local(info.last_error_date) if info.last_error_date else "at an unknown time"
        console.print(
            f"Last delivery error ({when}): {escape(info.last_error_message)}", highlight=False
        )
    else:
        console.print("Last delivery error: none", highlight=False)


@app.command("make-secret")
def make_secret() -> None:
    """Print a new random secret for TELEGRAM_WEBHOOK_SECRET.

    Telegram sends it with every delivery, so Linkline can refuse anything that does not
    come from Telegram. After setting it, run `linkline telegram set-webhook`.
    """
    typer.echo(secrets.token_urlsafe(SECRET_BYTES))
    err_console.print(
        "Set this as TELEGRAM_WEBHOOK_SECRET, then run `linkline telegram set-webhook`.",
        highlight=False,
    )


async def bot_username(settings: Settings) -> str | None:
    """The bot's @username: TELEGRAM_BOT_USERNAME, else asked of Telegram (getMe) when
    the bot is live; None when neither works (the caller says what to do instead)."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username
    if not _token(settings):
        return None
    try:
        async with _bot(settings) as bot:
            return bot.username
    except TelegramProblem:
        return None


def _talk(settings: Settings, action: Callable[[Bot], Awaitable[T]], *, doing: str) -> T:
    """Run one conversation with the Bot API; any failure is one line and exit code 1."""

    async def run() -> T:
        async with _bot(settings) as bot:
            return await action(bot)

    try:
        return asyncio.run(run())
    except TelegramProblem as exc:
        _refused(f"could not {doing}: {exc}")


@asynccontextmanager
async def _bot(settings: Settings) -> AsyncIterator[Bot]:
    """A started bot (getMe done), with failures turned into TelegramProblem."""
    token = _token(settings)
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


def _show_pending(info: WebhookInfo) -> None:
    count = info.pending_update_count
    console.print(
        f"Waiting to be delivered: {count} update{'' if count == 1 else 's'}", highlight=False
    )


def _refused(message: str) -> NoReturn:
    # escape: Telegram's words are text to show, not formatting to apply
    fail(escape(message))


def _token(settings: Settings) -> str:
    value = settings.telegram_bot_token
    return value.get_secret_value().strip() if value is not None else ""


def _secret(settings: Settings) -> str:
    value = settings.telegram_webhook_secret
    return value.get_secret_value() if value is not None else ""


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
