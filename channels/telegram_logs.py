"""Keeping the bot token, chat ids and texts out of PTB's and httpx's logs.

PTB logs every call's parameters and return value at DEBUG, logs the whole reply body
(chat id, text, the person's name) when a reply is not valid JSON, and httpx logs URLs
that contain the bot token at INFO; while a bot is live a filter on those loggers redacts
them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_REDACTED_LOGGERS = (
    "telegram.Bot",  # each call's parameters and return value, at DEBUG
    "telegram.request.BaseRequest",  # a reply that is not JSON, in full, at ERROR
    "telegram.request.HTTPXRequest",
    "httpx",  # request URLs, which hold the bot token, at INFO
)


@contextmanager
def redacted_logs(token: str) -> Iterator[None]:
    """Keep the bot token, chat ids and texts out of PTB's and httpx's logs meanwhile."""
    log_filter = RedactingFilter(token)
    install_filter(log_filter)
    try:
        yield
    finally:
        remove_filter(log_filter)


class RedactingFilter(logging.Filter):
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


def install_filter(log_filter: logging.Filter) -> None:
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(log_filter)


def remove_filter(log_filter: logging.Filter) -> None:
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).removeFilter(log_filter)
