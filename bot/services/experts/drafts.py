"""An expert being added, section by section: what has been typed so far.

Kept on the server and encrypted (store.models.ExpertDraft), one draft per member of
staff, so a half-finished add survives leaving the page, a timed-out session or another
device, and no personal data rides in the session cookie. Nothing here creates an
expert: the check-your-answers page does that, once, and then the draft is deleted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ExpertDraft
from store.models.drafts import DRAFT_LIFETIME

Answers = dict[str, Any]


async def load_draft(session: AsyncSession, staff_id: int, now: datetime) -> Answers:
    """Their answers so far ({} when there are none, or they are too old to trust)."""
    draft = await session.get(ExpertDraft, staff_id)
    if draft is None:
        return {}
    if draft.updated_at < now - DRAFT_LIFETIME:
        await session.delete(draft)
        return {}
    loaded = json.loads(draft.answers)
    return loaded if isinstance(loaded, dict) else {}


async def save_section(
    session: AsyncSession, staff_id: int, section: str, values: Answers, now: datetime
) -> Answers:
    """Keep one section's answers (and that it was saved); returns the whole draft."""
    answers = await load_draft(session, staff_id, now)
    answers.update(values)
    answers["saved"] = sorted({*answers.get("saved", []), section})
    draft = await session.get(ExpertDraft, staff_id)
    text = json.dumps(answers)
    if draft is None:
        session.add(ExpertDraft(staff_id=staff_id, answers=text, updated_at=now))
    else:
        draft.answers, draft.updated_at = text, now
    return answers


async def discard_draft(session: AsyncSession, staff_id: int) -> None:
    await session.execute(delete(ExpertDraft).where(ExpertDraft.staff_id == staff_id))
