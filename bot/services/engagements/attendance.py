"""Who came to an engagement, and a person's warm follow-up for anyone who missed it (R-3.6).

A missed meeting never produces a message: the link worker gets a task with a suggested
no-blame note, and after two or more missed in a row, a task to check in by a safe route.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.engagements.rules import EngagementError, may_record_attendance, refuse
from bot.services.experts.profile import is_paused
from bot.services.payments.claims import after_attendance, withdraw_time
from scheduling.people.missed_meetings import (
    MissedFollowup,
    open_missed_you,
    withdraw_missed_you,
)
from store import audit
from store.enums import ExpertStatus, InvitationAnswer
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
    refuse(may_record_attendance(engagement, now))
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
        await after_attendance(session, engagement, invitation, now, actor)
        return AttendanceResult(True, None, withdrawn, None)
    if was is True:
        await withdraw_time(session, invitation, now, actor)
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


def attendance_field(invitation_id: int) -> str:
    """The name of one person's row on an attendance sheet: the form field, and the key
    of its problem in a refusal's ``errors``."""
    return f"attended-{invitation_id}"


@dataclass(frozen=True)
class SheetResult:
    follow_ups: int  # people who missed it, whose link worker now has a warm-note task


async def record_attendance_sheet(
    session: AsyncSession,
    engagement: Engagement,
    came: Mapping[int, bool | None],
    *,
    now: datetime,
    actor: str,
) -> SheetResult:
    """Who came, for every row of one sheet at once. (What they are paid, and their costs,
    live in the payments ledger alone: the sheet shows them, it does not keep them.)

    ``came`` is keyed by invitation id and holds the rows the sheet covers: True came,
    False missed, None not marked (left as it is). A problem with any row is gathered
    into one refusal, by `attendance_field`, so a person sees them all; the caller's
    transaction then rolls back, and nothing on the sheet is kept.
    """
    refuse(may_record_attendance(engagement, now))
    problems: dict[str, str] = {}
    follow_ups = 0
    for invitation in engagement.invitations:
        if invitation.id not in came:
            continue
        mark = came[invitation.id]
        try:
            if mark is not None and mark is not invitation.attended:
                result = await record_attendance(
                    session, engagement, invitation.expert, mark, now=now, actor=actor
                )
                follow_ups += result.followup is not None
        except EngagementError as exc:
            problems[attendance_field(invitation.id)] = exc.plain
    if problems:
        raise EngagementError(errors=problems)
    return SheetResult(follow_ups)
