"""What a follow-up task says and who gets it: the script from ``templates/tasks/``, who
the person is and how it is safe to reach them, and the staff member responsible today.

Shared by the periodic follow-ups and the ones after a missed meeting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from scheduling.clock import local_today
from scheduling.rules.contact_rules import safe_windows
from scheduling.rules.cover import responsible_staff
from scheduling.rules.windows import WindowError
from scheduling.text.context import signature
from scheduling.text.rendering import DEFAULT_TEMPLATE_DIR, RenderError
from scheduling.text.words import in_sentence
from store.models import Expert, Staff, Task

CHUNK = 500  # keys per IN (...) query: well under SQLite's limit on bound values


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(DEFAULT_TEMPLATE_DIR / "tasks"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_task_script(template: str, /, **context: Any) -> str:
    """A task's details from ``templates/tasks/<name>.txt``; a missing value is an error."""
    try:
        return _templates().get_template(f"{template}.txt").render(**context).strip()
    except TemplateError as exc:
        raise RenderError(f"template tasks/{template}.txt could not be used: {exc}") from exc


def person_context(expert: Expert, now: datetime) -> dict[str, str]:
    """Who they are, who is writing, and how and when it is safe to reach them."""
    consented = {c.channel for c in expert.consents if c.allowed}
    routes = [c for c in expert.channel_order() if c in consented]
    if routes:
        route = ", or else ".join(in_sentence(c) for c in routes)
    else:
        route = "none is confirmed as safe yet, so check their record before any contact"
    try:
        windows = safe_windows(expert, routes[0] if routes else expert.preferred_channel)
        safe_times = "; ".join(w.describe() for w in windows)
    except WindowError:
        safe_times = "their safe-contact settings need checking first"
    return {
        "name": expert.preferred_name,
        "worker": signature(expert, now),
        "route": route,
        "safe_times": safe_times,
    }


def staff_for(expert: Expert, now: datetime) -> Staff:
    return responsible_staff(expert.link_worker, local_today(now, expert.time_zone))


def spoken_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


async def keys_without_tasks(session: AsyncSession, wanted: dict[str, int]) -> dict[str, int]:
    """The keys no task has yet, looked up in a few queries however many there are."""
    keys = list(wanted)
    taken: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        taken.update(
            k
            for k in await session.scalars(
                select(Task.dedupe_key).where(Task.dedupe_key.in_(chunk))
            )
            if k is not None
        )
    return {k: v for k, v in wanted.items() if k not in taken}


async def load_experts(session: AsyncSession, ids: Iterable[int]) -> list[Expert]:
    """With what a task needs: their worker and cover, consent and safe windows."""
    wanted = sorted(set(ids))
    experts: list[Expert] = []
    for start in range(0, len(wanted), CHUNK):
        experts.extend(
            await session.scalars(
                select(Expert)
                .where(Expert.id.in_(wanted[start : start + CHUNK]))
                .order_by(Expert.id)
                .options(
                    selectinload(Expert.link_worker).selectinload(Staff.cover),
                    selectinload(Expert.consents),
                    selectinload(Expert.windows),
                )
            )
        )
    return experts
