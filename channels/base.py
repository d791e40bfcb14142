"""The small contract every channel implements, and the errors that say what to do next.

The dispatcher never branches on which channel it holds: it reads the channel's declared
limits and reacts to the error type. A transient error means "try again later"; a
permanent one means "stop using this channel for this person and fall back".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from store.enums import Channel


@dataclass(frozen=True)
class ChannelLimits:
    max_body_chars: int | None = None
    has_subject: bool = False


@dataclass(frozen=True)
class CalendarEvent:
    """A calendar entry sent with an email: REQUEST to add or update, CANCEL to remove."""

    uid: str  # stable per engagement and person, so updates replace the same entry
    sequence: int  # rises with every change; a CANCEL uses a higher number than the REQUEST
    method: Literal["REQUEST", "CANCEL"]
    summary: str  # what shows in the calendar: neutral in discreet mode
    starts_at: datetime
    ends_at: datetime
    location: str | None = None
    organizer_name: str = ""
    organizer_email: str = ""


CALLBACK_DATA_MAX_BYTES = 64  # Telegram's limit on a button's callback_data


@dataclass(frozen=True)
class Button:
    """A quick answer the person can tap (Telegram inline button); other channels ignore
    buttons, so the body must always make sense without them.

    ``data`` comes back to us when it is tapped: keep it short and free of personal data
    (Telegram allows 1 to 64 bytes)."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise ValueError("a button needs a label the person can read")
        size = len(self.data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            raise ValueError(
                f"a button's data must be 1 to {CALLBACK_DATA_MAX_BYTES} bytes "
                f"(Telegram's limit), not {size}: use a short code such as 'ans:12:yes'"
            )


@dataclass(frozen=True)
class OutgoingMessage:
    """Everything a channel needs to send one message to one person."""

    idempotency_key: str
    channel: Channel
    to: str  # a phone number, chat id, email address or postal address
    body: str
    subject: str | None = None
    recipient_name: str = ""
    sender_name: str = ""  # the link worker's first name, shown where a channel allows
    html_body: str | None = None
    calendar: CalendarEvent | None = None
    large_print: bool = False
    easy_read: bool = False
    # After this moment the message must not reach the person (end of their safe hours).
    deliver_before: datetime | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # A document in the letter layout, sent with an email as a PDF file (a yearly
    # statement): the text of the letter, greeting and signature included.
    attach_letter: str | None = None
    # Quick answers shown under the message where the channel has buttons (Telegram).
    buttons: tuple[Button, ...] = ()


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
    """This channel will not reach this person: fall back, and tell a person.

    ``opt_out_reason`` is set when the person (or their provider) said no more on this
    channel, e.g. they replied STOP or blocked the bot: the contact point is then marked
    opted out so nothing else is sent there either.
    """

    def __init__(
        self, detail: str, *, code: str | None = None, opt_out_reason: str | None = None
    ) -> None:
        super().__init__(detail, code=code)
        self.opt_out_reason = opt_out_reason


class OutcomeUnknown(ChannelError):
    """The provider may have received the message, but we never heard back.

    Neither transient nor permanent: retrying could reach the person twice, so the
    dispatcher records the message as uncertain and a person checks.
    """


class LookupUnanswered(ChannelError):
    """The provider could not say whether it has a message: nothing may be sent again."""


@dataclass(frozen=True)
class Sought:
    """A message handed to a provider, described the way the provider can be asked about
    it when the provider knows nothing of our key: to whom, what it said, and when."""

    idempotency_key: str
    to: str
    body: str
    since: datetime  # when the attempt started; the provider's copy cannot be older


@runtime_checkable
class MessageChannel(Protocol):
    kind: Channel
    limits: ChannelLimits
    live: bool
    lookup_is_conclusive: bool  # True when lookup() returning None proves it was never sent

    def earliest_arrival(self, send_at: datetime) -> datetime:
        """When a message handed over at ``send_at`` can reach the person at the earliest."""
        ...

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Hand the message to the provider, or raise TransientError / PermanentError."""
        ...

    async def lookup(self, idempotency_key: str) -> Receipt | None:
        """Find an earlier send after a crash, where the provider allows it."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Searchable(Protocol):
    """A channel whose provider can be asked by recipient, text and time (Twilio)."""

    async def search(self, sought: Sought) -> Receipt | None:
        """The provider's copy, or None when it conclusively has none; raises
        :class:`LookupUnanswered` when it cannot say."""
        ...
