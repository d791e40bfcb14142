"""The dispatcher's settings, what it reports, and what passes between its steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from channels.base import OutgoingMessage
from scheduling.rules.frequency import FrequencyCap
from store.enums import Channel, Purpose

# How long to wait for more answers before recording a slice: a little lag for far fewer
# transactions when a provider answers quickly.
SLICE_WAIT = 0.02


class Prepared(NamedTuple):
    """A message ready to go: its try and its own changes as column values (written with
    the batch's others), what to send, and what recording the answer needs."""

    message_id: int
    attempt: dict[str, Any]
    outgoing: OutgoingMessage
    expert_id: int
    purpose: Purpose
    keeps_word: bool
    changes: dict[str, Any]  # the message's new words, route and count of tries


class Ready(NamedTuple):
    """A message whose try is committed: what to send, and where to write the answer.

    The rest lets a plain acceptance be recorded without loading the message again:
    ``reason`` is the try's router reason (the sent message's status reason), and
    ``keeps_word`` says sending it keeps or makes a promise, which needs the full picture.
    """

    message_id: int
    attempt_id: int
    outgoing: OutgoingMessage
    expert_id: int
    purpose: Purpose
    reason: str
    keeps_word: bool


@dataclass(frozen=True)
class DispatchEvent:
    """What happened to one message on one pass; the demo and logs read these."""

    at: datetime
    message_id: int
    expert_id: int
    purpose: str
    outcome: str
    channel: Channel | None
    detail: str


EventSink = Callable[[DispatchEvent], None]


@dataclass(frozen=True)
class DispatchConfig:
    worker: str = "worker-1"
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=2)
    retry_base: timedelta = timedelta(seconds=30)
    retry_cap: timedelta = timedelta(hours=1)
    max_transient_per_channel: int = 5
    max_overdue: timedelta = timedelta(days=7)
    cap: FrequencyCap = field(default_factory=FrequencyCap)
    # Provider calls of one batch in flight at once (each channel keeps its provider's
    # pace itself); the database work is done for the whole batch: bootstrap uses 16.
    concurrency: int = 1
