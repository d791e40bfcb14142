"""The migrations build exactly the schema the code expects, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.bootstrap import App
from store import migrate
from store.models import Base

# The migrations must build the same schema on both databases.
pytestmark = pytest.mark.db_contract


async def test_migrations_match_the_models(app: App) -> None:
    async with app.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    assert diff == []


async def test_upgrading_again_is_harmless(app: App) -> None:
    await migrate.upgrade(app.engine)
    assert await migrate.current_revision(app.engine) == migrate.head_revision()


async def test_the_due_message_index_is_partial(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        return
    async with app.engine.connect() as conn:
        definition = await conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_message_due'")
        )
    assert "WHERE" in definition and "pending" in definition
