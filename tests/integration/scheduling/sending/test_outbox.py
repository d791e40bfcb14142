"""Two workers claiming at once must never get the same message."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import insert

from bot.bootstrap import App
from scheduling.sending.outbox import claim_due
from store.enums import MessageStatus, Purpose
from store.models import Message
from tests.builders import add_expert

# Claims are FOR UPDATE SKIP LOCKED on PostgreSQL: run there as well.
pytestmark = pytest.mark.db_contract


async def _seed_due(app: App, count: int) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        rows = [
            {
                "expert_id": expert.id,
                "purpose": Purpose.PRE_BRIEF,
                "idempotency_key": f"race:{i}",
                "due_at": now - timedelta(minutes=1),
                "next_attempt_at": now - timedelta(minutes=1),
                "status": MessageStatus.PENDING,
                "attempts": 0,
                "deferrals": 0,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(count)
        ]
        await session.execute(insert(Message), rows)


async def test_concurrent_claimers_get_disjoint_messages(app: App) -> None:
    await _seed_due(app, 400)

    async def claimer(name: str) -> list[int]:
        got: list[int] = []
        while True:
            ids = await claim_due(
                app.sessions, worker=name, now=app.clock.now(), limit=7, lease=timedelta(minutes=2)
            )
            if not ids:
                return got
            got.extend(ids)

    results = await asyncio.gather(*(claimer(f"w{i}") for i in range(4)))
    claimed = [i for r in results for i in r]
    assert len(claimed) == 400
    assert len(set(claimed)) == 400  # nobody claimed a message twice


async def test_claims_skip_messages_not_yet_due(app: App) -> None:
    await _seed_due(app, 3)
    ids = await claim_due(
        app.sessions,
        worker="w",
        now=app.clock.now() - timedelta(hours=1),
        limit=10,
        lease=timedelta(minutes=2),
    )
    assert ids == []
