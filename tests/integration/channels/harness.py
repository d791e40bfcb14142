"""What a channel harness offers the contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from channels.base import MessageChannel

Failure = Literal["transient", "permanent", "opt_out"]

# The contract's "now": harnesses give their channel this clock, so safe-hours checks
# against deliver_before do not depend on the day the tests run.
CONTRACT_NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)


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
