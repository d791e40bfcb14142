"""Migration 0008: how someone is paid and their access needs are encrypted, existing
rows included (M-4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.bootstrap import App
from store import migrate
from store.engine import normalise_url
from store.models import Expert
from tests.builders import add_expert

pytestmark = pytest.mark.db_contract

# The revision before 0008, whatever the chain says (re-chained when branches merge).
_BEFORE = str(ScriptDirectory.from_config(migrate._config()).get_revision("0008").down_revision)
PAID = "cash, by the Yarrow credit union: no bank account"


async def _to(app: App, revision: str, *, down: bool = False) -> None:
    move = command.downgrade if down else command.upgrade
    async with app.engine.begin() as conn:
        await conn.run_sync(lambda sync: move(migrate._config(sync), revision))


async def _stored(app: App, column: str = "payment_preference") -> list[str]:
    async with app.engine.connect() as conn:
        found = await conn.execute(text(f"SELECT CAST({column} AS TEXT) FROM expert ORDER BY id"))
        return [row[0] for row in found]


async def test_existing_plain_values_are_encrypted_once_and_still_read(app: App) -> None:
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session, payment_preference=PAID, access_needs="large_print")
        bea = await add_expert(app, session, preferred_name="Bea", phone="07123 456780")
    await _to(app, _BEFORE, down=True)
    assert await _stored(app) == [PAID, None]  # as an older version kept it
    needs = [json.loads(v) for v in await _stored(app, "access_needs")]
    assert needs == [["large_print"], []]
    await _to(app, "head")
    sealed = await _stored(app)
    assert sealed[0].startswith("v1:") and "Yarrow" not in sealed[0] and sealed[1] is None
    sealed_needs = await _stored(app, "access_needs")
    assert all(v.startswith("v1:") and "large" not in v for v in sealed_needs)
    await migrate.upgrade(app.engine)  # again: nothing encrypted twice
    assert await _stored(app) == sealed
    async with app.sessions() as session:
        kept = await session.get(Expert, ana.id)
        other = await session.get(Expert, bea.id)
    assert kept is not None and other is not None
    assert (kept.payment_preference, kept.access_needs) == (PAID, ["large_print"])
    assert (other.payment_preference, other.access_needs) == (None, [])


async def test_without_the_key_the_migration_refuses_to_leave_plain_text(
    app: App, tmp_path: Path
) -> None:
    """Alembic on its own has no key: it says to use `linkline db upgrade` instead."""
    async with app.sessions.begin() as session:
        await add_expert(app, session, payment_preference=PAID)
    await _to(app, _BEFORE, down=True)
    bare = create_async_engine(normalise_url(str(app.engine.url.render_as_string(False))))
    try:
        with pytest.raises(RuntimeError, match="linkline db upgrade"):
            await migrate.upgrade(bare)
    finally:
        await bare.dispose()
    assert await _stored(app) == [PAID]  # nothing half-done
    await _to(app, "head")
    assert "Yarrow" not in (await _stored(app))[0]


async def test_a_long_payment_preference_is_kept_on_both_databases(app: App) -> None:
    """PostgreSQL refused more than 40 characters; the limit is now ExpertInput's, alike."""
    long = "paid by bank transfer to the account ending 1234, " * 3
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session, payment_preference=long.strip())
    async with app.sessions() as session:
        kept = await session.get(Expert, expert.id)
        assert kept is not None and kept.payment_preference == long.strip()
