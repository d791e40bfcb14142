"""The real email channel pointed at a recording SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from channels.mail import EmailChannel, EmailConfig
from tests.fakes.smtp import FakeSMTPServer
from tests.integration.channels.harness import Failure, Received

HARNESS = "email_harness"

# The contract's messages must be delivered before 2026-03-16 18:00 UTC. The channel's
# clock is fixed, so that deadline stays in the future whatever day the tests run.
HARNESS_NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)

_REPLIES: dict[Failure, str] = {
    "transient": "451 4.3.0 try later",
    "permanent": "550 5.1.1 no such user",
    "opt_out": "550 5.7.1 recipient has asked not to receive mail from this sender",
}


class EmailHarness:
    def __init__(self, server: FakeSMTPServer) -> None:
        self.server = server
        self.channel = EmailChannel(
            EmailConfig(
                host=server.host,
                port=server.port,
                from_address="sam@linkline.test",
                start_tls=False,
                timeout=5,
            ),
            clock=lambda: HARNESS_NOW,
        )

    def address(self) -> str:
        return "ana@example.net"

    def received(self) -> list[Received]:
        out = []
        for delivery in self.server.deliveries():
            plain = delivery.message.get_body(preferencelist=("plain",))
            text = str(plain.get_content()) if plain is not None else ""
            # SMTP carries CRLF line ends; the contract compares text as written.
            text = text.replace("\r\n", "\n")
            out.append(Received(to=", ".join(delivery.rcpt_tos), text=text))
        return out

    def fail_next(self, failure: Failure) -> None:
        self.server.refuse_next("RCPT", _REPLIES[failure])


@pytest.fixture
def email_harness() -> Iterator[EmailHarness]:
    """Self-contained: the contract's conftest registers only the fixture named in HARNESS."""
    server = FakeSMTPServer().start()
    try:
        yield EmailHarness(server)
    finally:
        server.stop()
