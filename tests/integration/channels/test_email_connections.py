"""The email channel keeps a few SMTP connections open between messages, judged by a
real SMTP server on loopback: how many times it was greeted, and what it received."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.channel_setup import build_channels
from bot.settings import Settings
from channels.base import OutcomeUnknown, OutgoingMessage
from channels.mail import EmailChannel, EmailConfig
from store.enums import Channel
from tests.fakes.smtp import FakeSMTPServer
from tests.fakes.smtp import _Handler as RecordingHandler

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)


class _Greeted(RecordingHandler):
    """The fake's handler, also counting EHLOs: one per connection the client opened."""

    def __init__(self) -> None:
        super().__init__()
        self.greetings = 0

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.greetings += 1
        session.host_name = hostname
        return responses


@pytest.fixture
def server() -> Iterator[FakeSMTPServer]:
    fake = FakeSMTPServer()
    fake.handler = _Greeted()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def _greetings(server: FakeSMTPServer) -> int:
    assert isinstance(server.handler, _Greeted)
    return server.handler.greetings


def _channel(server: FakeSMTPServer, connections: int = 4) -> EmailChannel:
    config = EmailConfig(
        host=server.host,
        port=server.port,
        from_address="sam@linkline.test",
        start_tls=False,
        timeout=5,
        connections=connections,
    )
    return EmailChannel(config, clock=lambda: NOW)


def _message(i: int) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"k{i}",
        channel=Channel.EMAIL,
        to=f"person{i}@example.net",
        body=f"Hi {i},\n\nSee you there.\n\nSam",
        subject="A note from Sam",
        recipient_name=f"Person {i}",
        sender_name="Sam",
        deliver_before=NOW + timedelta(hours=8),
    )


def _recipients(server: FakeSMTPServer) -> list[str]:
    return [to for delivery in server.deliveries() for to in delivery.rcpt_tos]


async def test_one_after_another_share_one_connection(server: FakeSMTPServer) -> None:
    channel = _channel(server)
    for i in range(5):
        await channel.send(_message(i))
    await channel.aclose()
    assert _recipients(server) == [f"person{i}@example.net" for i in range(5)]
    assert _greetings(server) == 1


async def test_at_once_they_share_at_most_the_configured_connections(
    server: FakeSMTPServer,
) -> None:
    channel = _channel(server, connections=2)
    await asyncio.gather(*(channel.send(_message(i)) for i in range(12)))
    await channel.aclose()
    assert sorted(_recipients(server)) == sorted(f"person{i}@example.net" for i in range(12))
    assert _greetings(server) <= 2


async def test_a_kept_connection_the_server_closes_sends_once_on_a_fresh_one(
    server: FakeSMTPServer,
) -> None:
    """421 at the envelope: the server is closing and took nothing, so the message goes
    once on a new connection, not twice and not later."""
    channel = _channel(server)
    await channel.send(_message(1))
    server.refuse_next("RCPT", "421 4.4.2 closing the connection")
    await channel.send(_message(2))
    await channel.aclose()
    assert _recipients(server) == ["person1@example.net", "person2@example.net"]
    assert _greetings(server) == 2


async def test_a_connection_dropped_after_the_message_is_never_used_or_sent_again(
    server: FakeSMTPServer,
) -> None:
    channel = _channel(server)
    server.drop_after_next_data()
    with pytest.raises(OutcomeUnknown):
        await channel.send(_message(1))
    await channel.send(_message(2))
    await channel.aclose()
    assert _recipients(server) == ["person1@example.net", "person2@example.net"]
    assert _greetings(server) == 2


async def test_a_refusal_leaves_the_next_message_unharmed(server: FakeSMTPServer) -> None:
    channel = _channel(server)
    await channel.send(_message(1))
    server.refuse_next("RCPT", "550 5.1.1 no such user")
    with pytest.raises(Exception, match="refused the address"):
        await channel.send(_message(2))
    await channel.send(_message(3))
    await channel.aclose()
    assert _recipients(server) == ["person1@example.net", "person3@example.net"]


def test_each_event_loop_gets_its_own_connections(server: FakeSMTPServer) -> None:
    """A CLI command may run the channel under one asyncio.run, then another."""
    channel = _channel(server)
    asyncio.run(channel.send(_message(1)))
    asyncio.run(channel.send(_message(2)))
    asyncio.run(channel.aclose())
    assert _recipients(server) == ["person1@example.net", "person2@example.net"]


async def test_smtp_connections_in_the_settings_caps_what_the_service_opens(
    server: FakeSMTPServer, tmp_path: Path
) -> None:
    """A provider that allows one connection per account: SMTP_CONNECTIONS=1 makes the
    email channel Linkline builds from its settings send everything over one."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        smtp_host=server.host,
        smtp_port=server.port,
        smtp_from="sam@linkline.test",
        smtp_starttls=False,
        smtp_connections=1,
    )
    email = build_channels(settings, lambda: NOW)[Channel.EMAIL]
    await asyncio.gather(*(email.send(_message(i)) for i in range(8)))
    await email.aclose()
    assert len(_recipients(server)) == 8
    assert _greetings(server) == 1
