"""python-telegram-bot's Application, without polling: Telegram posts updates to our webhook.

The handlers are thin: each turns an update into an ``Inbound`` and hands it to the same
listening rules as a text message. What the person sees back is plain text, protected
from forwarding, with no link previews.

A handler that fails is recorded against its update so the webhook answers 500 and
Telegram delivers it again; nothing was committed, so the repeat is handled afresh.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.bootstrap import App
from bot.services.listening import Heard, Inbound, hear
from scheduling.rules.questions import parse_button
from store.enums import Channel

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_MESSAGE_ID = 2**31 - 1  # an INTEGER key in PostgreSQL
_FAILED = "linkline_failed_updates"
_PRIVATE = filters.ChatType.PRIVATE


def build_application(built: App) -> Application[Any, Any, Any, Any, Any, Any] | None:
    """The bot's Application when Telegram is set up; None in dry-run."""
    token = built.settings.telegram_bot_token
    if token is None or not token.get_secret_value().strip():
        return None
    builder = (
        Application.builder()
        .token(token.get_secret_value().strip())
        .updater(None)
        .concurrent_updates(32)
    )
    if built.settings.telegram_api_base_url:
        builder = builder.base_url(f"{built.settings.telegram_api_base_url}/bot")
    application = builder.build()
    listener = _Listener(built)
    application.add_handler(CommandHandler("start", listener.start, filters=_PRIVATE))
    application.add_handler(CallbackQueryHandler(listener.button))
    application.add_handler(MessageHandler(_PRIVATE & ~filters.COMMAND, listener.message))
    application.add_handler(MessageHandler(_PRIVATE & filters.COMMAND, listener.message))
    application.add_error_handler(listener.failed)
    application.bot_data[_FAILED] = set()
    return application


def take_failure(application: Application[Any, Any, Any, Any, Any, Any], update_id: int) -> bool:
    """Whether handling this update failed (so Telegram should send it again)."""
    failed: set[int] = application.bot_data[_FAILED]
    if update_id in failed:
        failed.discard(update_id)
        return True
    return False


class _Listener:
    def __init__(self, built: App) -> None:
        self.built = built

    async def start(self, update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """``/start <code>`` from a t.me link links the chat; a bare /start is a message."""
        code = context.args[0] if context.args else None
        if code is None:
            await self.message(update, context)
            return
        await self._hear(update, context, text="/start", link_code=code[:64])

    async def message(self, update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
        message = update.effective_message
        if message is None:
            return
        text = message.text or message.caption
        if text is None:
            text = "[a sticker, picture or file, which Linkline does not keep]"
        await self._hear(update, context, text=text[:MAX_TEXT])

    async def button(self, update: Update, context: CallbackContext[Any, Any, Any, Any]) -> None:
        query = update.callback_query
        if query is None:
            return
        parsed = parse_button(query.data or "")
        chat = update.effective_chat
        # Callback data can be forged by a modified client: an id no message can have is
        # not our button (looking it up fails in the database, and Telegram sends it again).
        if parsed is None or parsed[0] > MAX_MESSAGE_ID or chat is None or chat.type != "private":
            await _quietly(query.answer())
            return
        message_id, value = parsed
        heard = await self._hear(update, context, text=value, answers=message_id, send=False)
        await _quietly(query.answer())
        if heard is not None and not heard.duplicate:
            # One tap is an answer: take the buttons away so it is not given twice.
            await _quietly(query.edit_message_reply_markup(reply_markup=None))
            if heard.answer:
                await self._say(context, chat.id, heard.answer)

    async def failed(self, update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        if isinstance(update, Update):
            context.application.bot_data[_FAILED].add(update.update_id)
        log.error(
            "a Telegram update could not be handled (%s); Telegram will send it again",
            type(context.error).__name__,
        )

    async def _hear(
        self,
        update: Update,
        context: CallbackContext[Any, Any, Any, Any],
        *,
        text: str,
        answers: int | None = None,
        link_code: str | None = None,
        send: bool = True,
    ) -> Heard | None:
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return None  # groups and channels are not how experts reach us
        inbound = Inbound(
            channel=Channel.TELEGRAM,
            provider_ref=f"telegram:{update.update_id}",
            sender=str(chat.id),
            text=text,
            received_at=self.built.clock.now(),
            answers_message_id=answers,
            link_code=link_code,
        )
        heard = await hear(self.built.sessions, inbound, self.built.listening())
        if send and heard.answer:
            await self._say(context, chat.id, heard.answer)
        return heard

    async def _say(
        self, context: CallbackContext[Any, Any, Any, Any], chat_id: int, text: str
    ) -> None:
        """The answer is already stored; a failure to send it is logged, not retried."""
        try:
            await context.bot.send_message(
                chat_id=chat_id,
                text=text,
                protect_content=True,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as exc:
            log.warning("could not answer a Telegram reply (%s)", type(exc).__name__)


async def _quietly(call: Any) -> None:
    try:
        await call
    except TelegramError as exc:
        log.info("Telegram refused a button clean-up (%s)", type(exc).__name__)
