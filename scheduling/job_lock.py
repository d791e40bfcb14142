"""One worker at a time for periodic planning jobs.

Every worker runs the same recurring jobs; planning twice at once would only collide on
idempotency keys, but it wastes work and fills logs. On PostgreSQL a transaction-scoped
advisory lock lets one worker plan while the others skip; SQLite runs a single worker.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


async def try_job_lock(session: AsyncSession, name: str) -> bool:
    """True when this transaction may run the job ``name``; released at commit."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _key(name)})
    )


@asynccontextmanager
async def job_turn(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """True inside when this worker alone runs ``name`` now, for a job that talks to the
    outside world between its transactions (reading a mailbox), so no transaction is held
    open while it waits on the network: the lock belongs to one pooled connection and is
    released when the block ends (or when that connection dies). SQLite: always True."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        mine = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(name)}))
        await conn.commit()
        try:
            yield mine
        finally:
            if mine:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
                    await conn.commit()
                except BaseException:
                    await conn.invalidate()  # closing the connection releases the lock
                    raise


async def hold_lock(session: AsyncSession, name: str) -> None:
    """Wait until this transaction alone holds ``name`` (PostgreSQL; released at commit),
    so work that reads what others just wrote sees it committed; SQLite writes one at a
    time already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _key(name)})


def _key(name: str) -> int:
    return zlib.crc32(f"linkline:{name}".encode())
