"""A half-finished "add an expert": kept per member of staff, encrypted, and gone once
saved, thrown away or left untouched for 14 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import App
from bot.services.experts.drafts import discard_draft, load_draft, save_section
from scheduling.clock import SimulatedClock
from store.models import ExpertDraft
from tests.staff_client import add_account

pytestmark = pytest.mark.db_contract


async def _drafts(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ExpertDraft)) or 0)


async def test_each_section_adds_to_one_draft_per_person(app: App, clock: SimulatedClock) -> None:
    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
        jo = await add_account(app, session, name="Jo Reid", email="jo@example.org")
        await save_section(session, sam.id, "name", {"preferred_name": "Cat"}, clock.now())
        await save_section(session, sam.id, "contact", {"phone": "07123 456702"}, clock.now())
        await save_section(session, jo.id, "name", {"preferred_name": "Dev"}, clock.now())
    async with app.sessions() as session:
        mine = await load_draft(session, sam.id, clock.now())
        theirs = await load_draft(session, jo.id, clock.now())
        stored = (await session.execute(text("SELECT answers FROM expert_draft"))).scalars().all()
    assert mine == {"preferred_name": "Cat", "phone": "07123 456702", "saved": ["contact", "name"]}
    assert theirs["preferred_name"] == "Dev"
    assert stored and not any("Cat" in s or "456702" in s for s in stored)  # encrypted
    async with app.sessions.begin() as session:
        await discard_draft(session, sam.id)
    assert await _drafts(app) == 1


async def test_a_draft_left_for_14_days_is_forgotten_and_purged(
    app: App, clock: SimulatedClock
) -> None:
    async with app.sessions.begin() as session:
        sam = await add_account(app, session)
        jo = await add_account(app, session, name="Jo Reid", email="jo@example.org")
        await save_section(session, sam.id, "name", {"preferred_name": "Cat"}, clock.now())
        await save_section(session, jo.id, "name", {"preferred_name": "Dev"}, clock.now())
    clock.advance(timedelta(days=13))
    async with app.sessions.begin() as session:  # Jo carries on: the 14 days start again
        await save_section(session, jo.id, "contact", {"email": "dev@example.net"}, clock.now())
    clock.advance(timedelta(days=2))
    async with app.sessions.begin() as session:
        assert await load_draft(session, sam.id, clock.now()) == {}
    assert await app.maintenance().purge() == 0  # reading it already deleted Sam's
    assert await _drafts(app) == 1
    clock.advance(timedelta(days=13))
    assert await app.maintenance().purge() == 1
    assert await _drafts(app) == 0
