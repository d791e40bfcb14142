"""One worker at a time for periodic planning jobs.

Every worker runs the same recurring jobs; planning twice at once would only collide on
idempotency keys, but it wastes work and fills logs. On PostgreSQL a transaction-scoped
advisory lock lets one worker plan while the others skip; SQLite runs a single worker.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def try_job_lock(session: AsyncSession, name: str) -> bool:
    """True when this transaction may run the job ``name``; released at commit."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(f"linkline:{name}".encode())
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


async def hold_lock(session: AsyncSession, name: str) -> None:
    """Wait until this transaction alone holds ``name`` (PostgreSQL; released at commit),
    so work that reads what others just wrote sees it committed; SQLite writes one at a
    time already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = zlib.crc32(f"linkline:{name}".encode())
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
