"""Append-only record of who did what. Ids and field names only: never content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditEvent


def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    at: datetime,
    **data: Any,
) -> None:
    session.add(
        AuditEvent(at=at, actor=actor, action=action, entity=entity, entity_id=entity_id, data=data)
    )
