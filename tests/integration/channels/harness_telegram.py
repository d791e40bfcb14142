"""The real TelegramChannel pointed at the fake Bot API on loopback, for the contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.telegram import TelegramChannel, TelegramConfig
from tests.fakes.telegram import Failure as TelegramFailure
from tests.fakes.telegram import FakeTelegram
from tests.integration.channels.harness import CONTRACT_NOW, Failure, Received

HARNESS = "telegram_harness"

# transient: Telegram was unavailable (503); permanent: the chat id leads nowhere (no opt-out);
# opt_out: the person blocked the bot.
_AS_TELEGRAM: dict[Failure, TelegramFailure] = {
    "transient": "unavailable",  # a 500 may have been processed: that is OutcomeUnknown
    "permanent": "chat_not_found",
    "opt_out": "blocked",
}


class TelegramHarness:
    def __init__(self, fake: FakeTelegram, channel: TelegramChannel) -> None:
        self.fake = fake
        self.channel = channel

    def address(self) -> str:
        return "5550001"

    def received(self) -> list[Received]:
        return [Received(to=sent.chat_id, text=sent.text) for sent in self.fake.ledger]

    def fail_next(self, failure: Failure) -> None:
        self.fake.fail_next(_AS_TELEGRAM[failure])


@pytest.fixture
async def telegram_harness() -> AsyncIterator[TelegramHarness]:
    async with FakeTelegram() as fake:
        # No spacing here so the contract stays fast; test_telegram.py checks the spacing.
        config = TelegramConfig(fake.token, base_url=fake.url + "/bot", per_chat_interval=0.0)
        channel = TelegramChannel(config, now=lambda: CONTRACT_NOW)
        try:
            yield TelegramHarness(fake, channel)
        finally:
            await channel.aclose()
