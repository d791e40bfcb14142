"""Our own pace for Telegram: one message at a time per chat, spaced, and at most so many
a second for the whole bot. A burst to one person is harm in itself here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


class ChatSpacing:
    """One message at a time per chat, each at least ``interval`` after the previous one
    finished, so the gap Telegram (and the person) sees is never shorter."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._chats: dict[int, ChatSlot] = {}

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        if len(self._chats) > 256:
            self._forget_idle()
        slot = self._chats.setdefault(chat_id, ChatSlot())
        slot.users += 1
        try:
            async with slot.lock:
                wait = slot.last + self._interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    yield
                finally:
                    slot.last = time.monotonic()  # failures count too: Telegram saw them
        finally:
            slot.users -= 1

    def _forget_idle(self) -> None:
        """Drop chats nobody is waiting for and whose spacing has passed, to bound memory."""
        horizon = time.monotonic() - self._interval
        for chat_id in [k for k, s in self._chats.items() if not s.users and s.last <= horizon]:
            del self._chats[chat_id]


@dataclass
class ChatSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")
    users: int = 0


class OverallRate:
    """At most ``per_second`` sends reach Telegram in any one-second window (its bot-wide
    limit), whatever the network or our own event loop does to their timing.

    A request reaches Telegram somewhere between when we start it and when its answer
    comes back, so a send may start only while fewer than ``per_second`` are in flight or
    came back within the last second. Counting start times alone let a delayed request land
    beside the next second's first ones, and Telegram answered 429. Fair in arrival order.
    """

    def __init__(self, per_second: int) -> None:
        self._per_second = per_second
        self._finished: deque[float] = deque()  # when answers came back, oldest first
        self._in_flight = 0
        self._lock = asyncio.Lock()
        self._freed = asyncio.Event()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place while the request is made."""
        async with self._lock:
            while not self._room():
                self._freed.clear()
                wait = self._finished[0] + 1.0 - time.monotonic() if self._finished else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), wait)
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(time.monotonic())
            self._freed.set()

    def _room(self) -> bool:
        horizon = time.monotonic() - 1.0
        while self._finished and self._finished[0] <= horizon:
            self._finished.popleft()
        return self._in_flight + len(self._finished) < self._per_second
