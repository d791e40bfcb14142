"""Our own pace for Telegram: one message at a time per chat, spaced, and at most so many
a second for the whole bot. A burst to one person is harm in itself here.
"""

from __future__ import annotations

import asyncio
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
    """At most ``per_second`` sends start in any one-second window (Telegram's bot-wide
    limit), as a sliding window: simple, exact, and fair in arrival order."""

    def __init__(self, per_second: int) -> None:
        self._per_second = per_second
        self._starts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            while len(self._starts) >= self._per_second:
                wait = self._starts[0] + 1.0 - time.monotonic()
                if wait <= 0:
                    self._starts.popleft()
                else:
                    await asyncio.sleep(wait)
            self._starts.append(time.monotonic())
