"""Who came to an engagement, and a person's warm follow-up for anyone who missed it (R-3.6).

A missed meeting never produces a message: the link worker gets a task with a suggested
no-blame note, and after two or more missed in a row, a task to check in by a safe route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.engagements.lifecycle import EngagementError
from bot.services.experts.profile import is_paused
from scheduling.people.missed_meetings import (
    MissedFollowup,
    open_missed_you,
    withdraw_missed_you,
)
from store import audit
from store.enums import EngagementStatus, ExpertStatus, InvitationAnswer
from store.models import Engagement, Expert

_CAME = frozenset({"came", "attended", "yes", "y", "present", "was there", "came along"})
_MISSED = frozenset(
    {"missed", "no", "n", "did not come", "didn't come", "absent", "not there", "wasn't there"}
)
WORDS_HELP = "came (or attended, yes) or missed (or no, did not come)"


def parse_attendance(text: str) -> bool | None:
    """True for came, False for missed, None for anything else (the caller says what to type)."""
    key = re.sub(r"\s+", " ", text.strip().lower().replace("\u2019", "'"))
    if key in _CAME:
        return True
    if key in _MISSED:
        return False
    return None


@dataclass(frozen=True)
class AttendanceResult:
    attended: bool
    followup: MissedFollowup | None  # the tasks for a person, when they missed it
    withdrawn_tasks: int  # "missed" corrected to "came": follow-ups no longer needed
    no_followup_because: str | None  # missed, but nobody should contact them now


async def record_attendance(
    session: AsyncSession,
    engagement: Engagement,
    expert: Expert,
    attended: bool,
    *,
    now: datetime,
    actor: str,
) -> AttendanceResult:
    """Set ``Invitation.attended``; a missed meeting opens follow-up tasks for a person."""
    who = expert.ref or str(expert.id)
    if engagement.status is EngagementStatus.CANCELLED:
        raise EngagementError(f"engagement {engagement.id} was cancelled, so nobody could come")
    if engagement.status is EngagementStatus.DRAFT:
        raise EngagementError(f"engagement {engagement.id} was never published")
    if engagement.starts_at > now:
        raise EngagementError(
            f"engagement {engagement.id} has not started yet: record who came once it has begun"
        )
    invitation = next((i for i in engagement.invitations if i.expert_id == expert.id), None)
    if invitation is None:
        raise EngagementError(f"expert {who} is not invited to engagement {engagement.id}")
    if not attended and invitation.answer is InvitationAnswer.NO:
        raise EngagementError(
            f"expert {who} said no to engagement {engagement.id}, so they were not expected"
        )
    was = invitation.attended
    invitation.attended = attended
    audit.record(
        session,
        actor=actor,
        action="invitation.attendance",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
        expert_id=expert.id,
    )
    if attended:
        withdrawn = await withdraw_missed_you(session, invitation, now) if was is False else 0
        return AttendanceResult(True, None, withdrawn, None)
    reason = _why_not_contact(expert, now)
    if reason is not None:
        return AttendanceResult(False, None, 0, reason)
    return AttendanceResult(False, await open_missed_you(session, invitation, now), 0, None)


def _why_not_contact(expert: Expert, now: datetime) -> str | None:
    """A pause or a withdrawal means no follow-up, not even a kind one."""
    if expert.status is ExpertStatus.WITHDRAWN:
        return "they have withdrawn"
    if is_paused(expert, now):
        return "their contact is paused"
    return None


async def record_costs_settled(
    session: AsyncSession,
    engagement: Engagement,
    expert: Expert,
    settled: bool,
    *,
    now: datetime,
    actor: str,
) -> bool:
    """Mark someone's travel and other costs as paid back (or not yet); True if it changed.

    Costs can be owed whether or not the engagement went ahead, so this is refused only
    for someone who was never invited."""
    who = expert.ref or str(expert.id)
    invitation = next((i for i in engagement.invitations if i.expert_id == expert.id), None)
    if invitation is None:
        raise EngagementError(f"expert {who} is not invited to engagement {engagement.id}")
    if invitation.costs_settled is settled:
        return False
    invitation.costs_settled = settled
    audit.record(
        session,
        actor=actor,
        action="invitation.costs_settled",
        entity="engagement",
        entity_id=engagement.id,
        at=now,
        expert_id=expert.id,
        settled=settled,
    )
    return True
