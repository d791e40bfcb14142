"""Whether an engagement is too soon for its contact plan, said before it is published.

Publishing eleven hours before a meeting quietly drops the reminder and sends the
pre-brief at once (or not at all, outside safe hours); a letter cannot arrive. The link
worker should know that before they press Publish, not find it in the plan later. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from scheduling.rules.plan import PlanOffsets, plan_invitation
from scheduling.rules.wording import spoken_datetime
from store.enums import Purpose

# Long enough before the start for a letter posted the next working day to arrive.
LETTER_LEAD = timedelta(days=4)


def too_soon(
    starts_at: datetime,
    ends_at: datetime,
    tz: str,
    offsets: PlanOffsets,
    now: datetime,
    post_only: Sequence[str] = (),
) -> list[str]:
    """What of the plan cannot happen as planned if it is published ``now``, in sentences;
    empty when there is time for all of it. ``post_only``: the names of invited people
    reached only by letter."""
    if starts_at <= now:
        return []
    early = _long_ago(starts_at, offsets)
    meant = {m.purpose: m for m in plan_invitation(starts_at, ends_at, tz, offsets, now=early)}
    real = {m.purpose: m for m in plan_invitation(starts_at, ends_at, tz, offsets, now=now)}
    said: list[str] = []
    pre_brief = Purpose.PRE_BRIEF
    if pre_brief in meant and real[pre_brief].due_at > meant[pre_brief].due_at:
        said.append(
            f"The pre-brief was meant to go {offsets.pre_brief_days} days before; it will go as "
            "soon as each person's safe hours allow, so they have little time to get ready."
        )
    if Purpose.REMINDER in meant and Purpose.REMINDER not in real:
        said.append(
            f"The reminder ({offsets.reminder_days} day{'s' if offsets.reminder_days != 1 else ''}"
            " before) cannot happen: there is no time left for it."
        )
    if starts_at - now < LETTER_LEAD:
        whom = f" ({', '.join(post_only)})" if post_only else ""
        said.append(
            f"A letter cannot arrive before it starts on {spoken_datetime(starts_at, tz)}: "
            f"anyone reached only by post{whom} must be phoned instead."
        )
    return said


def _long_ago(starts_at: datetime, offsets: PlanOffsets) -> datetime:
    """A moment early enough for every message of the plan."""
    return starts_at - timedelta(days=offsets.pre_brief_days + 30)
