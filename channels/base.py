"""The small contract every channel implements, and the errors that say what to do next.

The dispatcher never branches on which channel it holds: it reads the channel's declared
limits and reacts to the error type. A transient error means "try again later"; a
permanent one means "stop using this channel for this person and fall back".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, runtime_checkable

from store.enums import Channel


@dataclass(frozen=True)
class ChannelLimits:
    max_body_chars: int | None = None
    has_subject: bool = False
    lead_time: timedelta = timedelta(0)  # how long before it reaches the person


@dataclass(frozen=True)
class OutgoingMessage:
    """Everything a channel needs to send one message to one person."""

    idempotency_key: str
    channel: Channel
    to: str  # a phone number, chat id, email address or postal address
    body: str
    subject: str | None = None
    recipient_name: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """Proof that the provider took the message: its id and first status."""

    provider_id: str
    status: str = "accepted"


class ChannelError(Exception):
    """Base of channel failures; ``detail`` is safe to store (no personal data)."""

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class TransientError(ChannelError):
    """Worth trying again later on the same channel (timeouts, 4xx SMTP, rate limits)."""

    def __init__(
        self, detail: str, *, code: str | None = None, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class PermanentError(ChannelError):
    """This channel will not reach this person: fall back, and tell a person."""


@runtime_checkable
class MessageChannel(Protocol):
    kind: Channel
    limits: ChannelLimits
    live: bool

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Hand the message to the provider, or raise TransientError / PermanentError."""
        ...

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        """Find an earlier send after a crash, where the provider allows it."""
        ...

    async def aclose(self) -> None: ...
