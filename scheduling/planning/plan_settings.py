"""Contact-plan offsets in layers: the organisation's defaults, then the kind of engagement,
then the engagement itself, then the expert (someone who wants a longer pre-brief).

Every layer is checked together with the layers it meets when it is saved, so a
contradiction (a reminder before the pre-brief, a de-brief before the check-in) is refused
with a message a link worker can act on, not discovered when a message is due.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.rules.plan import PlanError, PlanOffsets
from store.models import Engagement, Expert, PlanSetting

log = logging.getLogger(__name__)

KIND_MAX = 40


@dataclass(frozen=True)
class Layers:
    """The overrides that apply to one engagement, before the expert's own."""

    base: PlanOffsets
    kind: Mapping[str, Any]
    engagement: Mapping[str, Any]

    def for_engagement(self) -> PlanOffsets:
        return self.base.with_overrides(self.kind).with_overrides(self.engagement)

    def for_expert(self, expert: Expert) -> PlanOffsets:
        """The expert's own offsets; if they clash with this engagement's, the engagement's
        hold (refused at save time, so this only happens for settings saved long ago)."""
        offsets = self.for_engagement()
        try:
            return offsets.with_overrides(expert.plan_overrides or {})
        except PlanError:
            log.warning("expert %s: own plan settings clash with an engagement's", expert.id)
            return offsets


def normalise_kind(kind: str) -> str:
    cleaned = " ".join(kind.strip().lower().split())
    if not cleaned:
        raise PlanError("the kind of engagement is empty: use a word like 'panel' or 'interview'")
    if len(cleaned) > KIND_MAX:
        raise PlanError(f"the kind of engagement is too long (at most {KIND_MAX} characters)")
    return cleaned


async def kind_overrides(session: AsyncSession, kind: str) -> dict[str, Any]:
    row = await session.get(PlanSetting, normalise_kind(kind))
    return dict(row.overrides) if row is not None else {}


async def layers_for(session: AsyncSession, engagement: Engagement, base: PlanOffsets) -> Layers:
    return Layers(
        base, await kind_overrides(session, engagement.kind), dict(engagement.plan_overrides or {})
    )


async def check_engagement_overrides(
    session: AsyncSession, kind: str, overrides: Mapping[str, Any], base: PlanOffsets
) -> PlanOffsets:
    """Refuse engagement settings that clash with its kind's settings (or are bad alone)."""
    return Layers(base, await kind_overrides(session, kind), overrides).for_engagement()


async def save_engagement_overrides(
    session: AsyncSession,
    engagement: Engagement,
    changes: Mapping[str, Any],
    base: PlanOffsets,
    now: datetime,
) -> PlanOffsets:
    merged = _merge(dict(engagement.plan_overrides or {}), changes)
    offsets = await check_engagement_overrides(session, engagement.kind, merged, base)
    engagement.plan_overrides = _stored(merged)
    engagement.updated_at = now
    return offsets


async def save_kind_overrides(
    session: AsyncSession,
    kind: str,
    changes: Mapping[str, Any],
    base: PlanOffsets,
    now: datetime,
) -> PlanOffsets:
    """Merge ``changes`` into the kind's settings (a value of None removes that setting)."""
    name = normalise_kind(kind)
    row = await session.get(PlanSetting, name)
    merged = _merge(dict(row.overrides) if row is not None else {}, changes)
    offsets = base.with_overrides(merged)
    for expert in await _experts_with_overrides(session):
        try:
            offsets.with_overrides(expert.plan_overrides)
        except PlanError as exc:
            raise PlanError(
                f"that would clash with the own settings of expert {expert.ref or expert.id} "
                f"({exc}); change theirs first"
            ) from None
    if row is None:
        session.add(PlanSetting(kind=name, overrides=_stored(merged), updated_at=now))
    else:
        row.overrides, row.updated_at = _stored(merged), now
    return offsets


async def save_expert_overrides(
    session: AsyncSession,
    expert: Expert,
    changes: Mapping[str, Any],
    base: PlanOffsets,
    now: datetime,
) -> PlanOffsets:
    merged = _merge(dict(expert.plan_overrides or {}), changes)
    offsets = base.with_overrides(merged)
    kinds = list(await session.scalars(select(PlanSetting)))
    for setting in kinds:
        try:
            base.with_overrides(setting.overrides).with_overrides(merged)
        except PlanError as exc:
            raise PlanError(
                f"that would clash with the settings for {setting.kind!r} engagements ({exc})"
            ) from None
    expert.plan_overrides = _stored(merged)
    expert.updated_at = now
    return offsets


def _merge(current: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _stored(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values as JSON-friendly text and numbers."""
    out: dict[str, Any] = {}
    for name, value in overrides.items():
        out[name] = value.strftime("%H:%M") if hasattr(value, "strftime") else value
        if name != "send_at":
            out[name] = int(value)
    return out


async def _experts_with_overrides(session: AsyncSession) -> list[Expert]:
    rows = await session.scalars(select(Expert).where(cast(Expert.plan_overrides, String) != "{}"))
    return [e for e in rows if e.plan_overrides]
