"""How far start-up has got: read by /healthz and by the Telegram webhook."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Readiness:
    """Set by the app's lifespan; a webhook that arrives too early answers 503 and is
    retried by its sender, rather than failing."""

    serving: bool = False  # the scheduler runs and requests are being answered
    telegram: bool = False  # the Telegram bot has started (getMe answered)
