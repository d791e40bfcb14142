"""Contact-plan settings per kind of engagement and per expert, checked when saved.

A refusal names the setting at fault (``field``) and says it without the settings' code
names (``plain``), so a form shows it beside the right box and the CLI keeps the names
its options use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.engagements.rules import may_change_plan, refuse
from scheduling.planning.plan_settings import (
    kind_overrides,
    layers_for,
    normalise_kind,
    save_engagement_overrides,
    save_expert_overrides,
    save_kind_overrides,
)
from scheduling.planning.planner import PlanReport, replan_engagement
from scheduling.rules.plan import PlanError, PlanOffsets
from store import audit
from store.models import Engagement, Expert, PlanSetting

# The settings a person can change, in the order a plan uses them.
SETTING_NAMES = ("pre_brief_days", "reminder_days", "check_in_days", "de_brief_days", "send_at")
ORGANISATION = "organisation default"
# Which setting a refusal is about: the first of these phrases in its message.
_FAULT_PHRASES = (
    ("pre-brief must", "pre_brief_days"),
    ("reminder must", "reminder_days"),
    ("check-in must", "check_in_days"),
    ("de-brief must", "de_brief_days"),
    ("send_at", "send_at"),
    ("pre_brief_days", "pre_brief_days"),
    ("reminder_days", "reminder_days"),
    ("check_in_days", "check_in_days"),
    ("de_brief_days", "de_brief_days"),
)


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
    try:
        offsets = await save_kind_overrides(session, kind, changes, base, now)
    except PlanError as exc:
        raise located(exc) from exc
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
    refuse(may_change_plan(engagement))
    try:
        offsets = await save_engagement_overrides(session, engagement, changes, base, now)
    except PlanError as exc:
        raise located(exc) from exc
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
    try:
        offsets = await save_expert_overrides(session, expert, changes, base, now)
    except PlanError as exc:
        raise located(exc) from exc
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


async def for_engagement(
    session: AsyncSession, engagement: Engagement, base: PlanOffsets
) -> Effective:
    """What this engagement's plan uses before any expert's own settings, and from where."""
    layers = await layers_for(session, engagement, base)
    source = dict.fromkeys(PlanOffsets.__dataclass_fields__, ORGANISATION)
    source.update(dict.fromkeys(layers.kind, f"kind {engagement.kind!r}"))
    source.update(dict.fromkeys(layers.engagement, "this engagement"))
    return Effective(layers.for_engagement(), source)


async def kind_table(session: AsyncSession, base: PlanOffsets) -> list[tuple[str, Effective]]:
    """Every kind with settings of its own, and "meeting" (the default kind), with what a
    plan for each would use."""
    names = sorted({row.kind for row in await kinds(session)} | {"meeting"})
    return [(name, await effective(session, base, kind=name, expert=None)) for name in names]


async def kind_exists(session: AsyncSession, kind: str) -> bool:
    return await session.get(PlanSetting, normalise_kind(kind)) is not None


def located(error: PlanError) -> PlanError:
    """The same refusal, naming the setting at fault and said in plain words."""
    return PlanError(
        error.message,
        field=error.field or setting_at_fault(error),
        plain=in_plain_words(error),
        errors=error.errors,
    )


def setting_at_fault(error: PlanError) -> str | None:
    """The setting a refusal is about (for showing it next to that field), if one is named."""
    text = str(error)
    found = [(text.find(phrase), name) for phrase, name in _FAULT_PHRASES if phrase in text]
    return min(found)[1] if found else None


def in_plain_words(error: PlanError) -> str:
    """A refusal without the settings' code names, for the web pages."""
    text = str(error)
    head, _, tail = text.partition(": ")
    if "_days" in tail and "clash" not in head:
        text = head
    if " (" in text and text.endswith(")") and "clash" not in text:
        text = text[: text.rindex(" (")]
    for name, words in (
        ("pre_brief_days", "the pre-brief days"),
        ("reminder_days", "the reminder days"),
        ("check_in_days", "the check-in days"),
        ("de_brief_days", "the de-brief days"),
        ("send_at", "the time to send"),
    ):
        text = text.replace(name, words)
    return text


_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$")


def parse_clock(text: str) -> time:
    """A time of day as people type it: 14:00, 9.30, 2pm, 2:30pm."""
    found = _CLOCK.match(text.strip().lower().replace(" ", ""))
    if found is None:
        raise PlanError(f"{text.strip()!r} is not a time of day: use the form 14:00")
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if found.group(3):
        if not 1 <= hour <= 12:
            raise PlanError(f"{text.strip()!r} is not a time of day: use the form 14:00")
        hour = hour % 12 + (12 if found.group(3) == "pm" else 0)
    elif found.group(2) is None:
        raise PlanError(f"{text.strip()!r} is not a time of day: use the form 14:00")
    if hour > 23 or minute > 59:
        raise PlanError(f"{text.strip()!r} is not a time of day: use the form 14:00")
    return time(hour, minute)
