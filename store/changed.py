"""How many rows an UPDATE or DELETE touched.

``AsyncSession.execute`` is typed to return a plain ``Result``; for a data-changing
statement it is a ``CursorResult``, which is what carries ``rowcount``.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.ext.asyncio import AsyncSession


async def rows_changed(session: AsyncSession, statement: Executable) -> int:
    """Run ``statement`` (an UPDATE or DELETE) and say how many rows it changed."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)
