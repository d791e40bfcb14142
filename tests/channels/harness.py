"""What a channel harness offers the contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from channels.base import MessageChannel

Failure = Literal["transient", "permanent", "opt_out"]


@dataclass(frozen=True)
class Received:
    """One message as the fake provider saw it."""

    to: str
    text: str  # the body as plain text (for a PDF: the extracted text)


class Harness(Protocol):
    channel: MessageChannel

    def address(self) -> str:
        """A valid recipient for this channel."""
        ...

    def received(self) -> list[Received]: ...

    def fail_next(self, failure: Failure) -> None:
        """Make the fake provider refuse the next message in this way."""
        ...
