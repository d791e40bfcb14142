"""Contact-plan settings per kind of engagement and per expert, checked when saved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.plan import PlanOffsets
from scheduling.plan_settings import (
    kind_overrides,
    normalise_kind,
    save_engagement_overrides,
    save_expert_overrides,
    save_kind_overrides,
)
from scheduling.planner import PlanReport, replan_engagement
from store import audit
from store.models import Engagement, Expert, PlanSetting


@dataclass(frozen=True)
class Effective:
    offsets: PlanOffsets
    source: dict[str, str]  # setting name -> where its value comes from


async def set_for_kind(
    session: AsyncSession,
    kind: str,
    changes: Mapping[str, Any],
    base: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> PlanOffsets:
    offsets = await save_kind_overrides(session, kind, changes, base, now)
    audit.record(
        session,
        actor=actor,
        action="plan.kind_settings",
        entity="plan_setting",
        entity_id=None,
        at=now,
        kind=normalise_kind(kind),
        changed=sorted(changes),
    )
    return offsets


async def set_for_engagement(
    session: AsyncSession,
    engagement: Engagement,
    changes: Mapping[str, Any],
    base: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> tuple[PlanOffsets, PlanReport]:
    """Change one engagement's offsets and move its unsent messages to match."""
    offsets = await save_engagement_overrides(session, engagement, changes, base, now)
    report = await replan_engagement(session, engagement, base, now)
    audit.record(
        session,
        actor=actor,
        action="plan.engagement_settings",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
        changed=sorted(changes),
    )
    return offsets, report


async def set_for_expert(
    session: AsyncSession,
    expert: Expert,
    changes: Mapping[str, Any],
    base: PlanOffsets,
    *,
    now: datetime,
    actor: str,
) -> PlanOffsets:
    offsets = await save_expert_overrides(session, expert, changes, base, now)
    audit.record(
        session,
        actor=actor,
        action="plan.expert_settings",
        entity="expert",
        entity_id=expert.id,
        at=now,
        changed=sorted(changes),
    )
    return offsets


async def effective(
    session: AsyncSession, base: PlanOffsets, *, kind: str | None, expert: Expert | None
) -> Effective:
    """What a plan would use, and which layer each value comes from."""
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if kind is not None:
        layers.append((f"kind {normalise_kind(kind)!r}", await kind_overrides(session, kind)))
    if expert is not None:
        layers.append((f"expert {expert.ref or expert.id}", expert.plan_overrides or {}))
    offsets = base
    source = dict.fromkeys(PlanOffsets.__dataclass_fields__, "organisation default")
    for name, overrides in layers:
        offsets = offsets.with_overrides(overrides)
        source.update(dict.fromkeys(overrides, name))
    return Effective(offsets, source)


async def kinds(session: AsyncSession) -> list[PlanSetting]:
    return list(await session.scalars(select(PlanSetting).order_by(PlanSetting.kind)))
