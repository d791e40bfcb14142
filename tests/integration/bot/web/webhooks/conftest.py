"""The live service (the real app on loopback with the fake providers) that most webhook
tests talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scheduling.clock import SimulatedClock
from tests.live import Live, live_service


@pytest.fixture
async def live(tmp_path: Path, database_url: str, clock: SimulatedClock) -> AsyncIterator[Live]:
    async with live_service(tmp_path, database_url, clock) as service:
        yield service
