"""The live SMS channel, pointed at the fake Twilio API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.sms import SmsChannel, SmsConfig
from tests.fakes.twilio import FakeTwilio
from tests.integration.channels.harness import CONTRACT_NOW as NOW
from tests.integration.channels.harness import Failure, Received

HARNESS = "sms_harness"

# What each contract failure looks like at Twilio: an outage, a refused message, a STOP.
_FAILURES: dict[Failure, tuple[int, int]] = {
    "transient": (503, 20503),  # a 500 may have been processed: that is OutcomeUnknown
    "permanent": (400, 21617),  # Twilio refuses this message; the number is fine
    "opt_out": (400, 21610),
}


class SmsHarness:
    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        config = SmsConfig(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+447700900000",
            status_callback_url="https://linkline.example.org/webhooks/twilio/status",
            api_base_url=fake.url,
        )
        # The contract's messages are written for its own fixed "now", not the wall clock.
        self.channel = SmsChannel(config, now=lambda: NOW)

    def address(self) -> str:
        return "+447123456789"

    def received(self) -> list[Received]:
        return [Received(to=sms.to, text=sms.body) for sms in self.fake.ledger]

    def fail_next(self, failure: Failure) -> None:
        status, code = _FAILURES[failure]
        self.fake.fail_next(status, code)


@pytest.fixture
async def sms_harness() -> AsyncIterator[SmsHarness]:
    fake = await FakeTwilio().start()
    harness = SmsHarness(fake)
    try:
        yield harness
    finally:
        await harness.channel.aclose()
        await fake.close()
