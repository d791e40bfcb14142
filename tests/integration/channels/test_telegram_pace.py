"""Telegram's bot-wide limit, held exactly: a fake that counts arrivals in every second
never has to answer 429, however the requests' timing is disturbed on the way."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from channels.base import OutgoingMessage
from channels.telegram import TelegramChannel, TelegramConfig
from channels.telegram_pace import OverallRate
from store.enums import Channel
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def _message(i: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"k{i}",
        channel=Channel.TELEGRAM,
        to=str(5_000_000 + i),
        body=f"Hello {i}",
        deliver_before=datetime.now(UTC) + timedelta(hours=1),
    )


async def test_many_chats_at_once_stay_within_the_bot_wide_limit() -> None:
    async with FakeTelegram(overall_per_second=10) as fake:
        config = TelegramConfig(fake.token, base_url=fake.url + "/bot", overall_per_second=10)
        channel = TelegramChannel(config)
        try:
            await asyncio.gather(*(channel.send(_message(i)) for i in range(25)))
        finally:
            await channel.aclose()
        assert fake.too_many_requests == 0
        assert len(fake.ledger) == 25


async def test_a_slow_request_keeps_its_place_until_it_is_answered() -> None:
    """Three a second, each taking half a second: the fourth waits a second after their
    answers (Telegram may have seen them only then), not a second after they started."""
    rate = OverallRate(3)
    began = time.monotonic()

    async def request(delay: float) -> float:
        async with rate.slot():
            started = time.monotonic() - began
            await asyncio.sleep(delay)
            return started

    starts = await asyncio.gather(request(0.5), request(0.5), request(0.5), request(0))
    assert max(starts[:3]) < 0.2
    assert starts[3] >= 1.5


async def test_the_fake_answers_429_past_its_limit() -> None:
    async with FakeTelegram(overall_per_second=2) as fake:
        config = TelegramConfig(fake.token, base_url=fake.url + "/bot", overall_per_second=30)
        channel = TelegramChannel(config)
        try:
            results = await asyncio.gather(
                *(channel.send(_message(i)) for i in range(4)), return_exceptions=True
            )
        finally:
            await channel.aclose()
        assert fake.too_many_requests == 2
        assert sum(isinstance(r, Exception) for r in results) == 2
