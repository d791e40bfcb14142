"""Writing the contact plan into the outbox, and keeping it right as engagements change.

Re-planning is idempotent: each message has a key built from engagement, expert and
purpose, so running it twice changes nothing. Only messages not yet sent are moved or
cancelled; anything already sent stays in the record. What a move, a cancellation or an
engagement's end adds is in :mod:`scheduling.planning.engagement_changes`; follow-ups to
what a message promised, in :mod:`scheduling.planning.promise_follow_ups`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from scheduling.planning.plan_settings import Layers, layers_for
from scheduling.rules.plan import PlannedMessage, PlanOffsets, plan_invitation
from scheduling.rules.reach import Reach, reach_of
from store.enums import (
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    Purpose,
)
from store.models import (
    ChannelConsent,
    ContactPoint,
    Engagement,
    Expert,
    Invitation,
    Message,
    Staff,
)

_PLANNED = (Purpose.PRE_BRIEF, Purpose.REMINDER, Purpose.CHECK_IN, Purpose.DE_BRIEF)
_CHUNK = 5000  # ids per IN (...) list: well under every database's parameter limit
_MESSAGES = cast(Table, Message.__table__)  # for a Core INSERT of plain rows
_DROPPED = frozenset({MessageStatus.CANCELLED, MessageStatus.SUPPRESSED})


def message_key(engagement_id: int, expert_id: int, purpose: Purpose, version: int = 0) -> str:
    suffix = f":v{version}" if version else ""
    return f"eng{engagement_id}:exp{expert_id}:{purpose.value}{suffix}"


@dataclass
class PlanReport:
    added: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0


async def load_engagement(
    session: AsyncSession, engagement_id: int, *, only: int | None = None
) -> Engagement | None:
    """The engagement with its lead, and everyone invited with their link worker and
    cover: three queries (engagement and lead; invitations and experts; link workers
    and cover), a round trip each, however many are invited.

    With ``only`` (an expert's id), its invitations hold that person's alone: for one
    person's answer, re-planned with ``replan_engagement(..., only=...)`` in a transaction
    that reads nobody else's, so a reply does not load all thirty people invited."""
    invitations = Engagement.invitations
    if only is not None:
        invitations = invitations.and_(Invitation.expert_id == only)  # type: ignore[assignment]
    return await session.scalar(
        select(Engagement)
        .where(Engagement.id == engagement_id)
        .options(
            selectinload(invitations)
            .joinedload(Invitation.expert, innerjoin=True)
            .selectinload(Expert.link_worker)
            .joinedload(Staff.cover),
            joinedload(Engagement.lead, innerjoin=True),
        )
    )


async def replan_engagement(
    session: AsyncSession,
    engagement: Engagement,
    base: PlanOffsets,
    now: datetime,
    *,
    only: int | None = None,
) -> PlanReport:
    """Bring the outbox in line with the engagement as it is now; with ``only`` (an
    expert's id), just that person's part of it, when only their answer changed.

    The plan is compared with what is already planned in memory, from a few columns of
    each message (no ORM object each); only the messages that move or drop are loaded,
    in one query. The pure plan is worked out once per distinct (offsets, reach): in an
    engagement almost everyone shares them, and only the times of the engagement matter.
    """
    report = PlanReport()
    layers = await layers_for(session, engagement, base)
    invitations = [i for i in engagement.invitations if only is None or i.expert_id == only]
    slots = await _slots(session, engagement.id, only)
    await load_channels(session, [i.expert for i in invitations])
    plan_for = _PlanCache(engagement, layers, now)
    new: list[dict[str, Any]] = []
    moves: dict[int, PlannedMessage] = {}
    drops: dict[int, Invitation] = {}
    for invitation in invitations:
        wanted: list[PlannedMessage] = []
        if should_plan(engagement, invitation):
            wanted = plan_for(invitation.expert)
        wanted_purposes = {planned.purpose for planned in wanted}
        for planned in wanted:
            slot = slots.get((invitation.expert_id, planned.purpose))
            _apply(new, moves, slot, planned, engagement, invitation, now, report)
        for purpose in _PLANNED:
            latest = slots.get((invitation.expert_id, purpose))
            if (
                purpose not in wanted_purposes
                and latest is not None
                and latest.status is MessageStatus.PENDING
            ):
                drops[latest.id] = invitation
                report.cancelled += 1
    if moves or drops:
        await _change(session, engagement, moves, drops, now)
    if new:
        # One multi-row INSERT, not one ORM object (and, on SQLite, one round trip) each.
        await session.execute(insert(_MESSAGES), new)
    return report


class _PlanCache:
    """The pure plan per (offsets, reach), for one engagement at one moment. The offsets
    of someone without their own settings are the engagement's, worked out once."""

    def __init__(self, engagement: Engagement, layers: Layers, now: datetime) -> None:
        self.engagement, self.layers, self.now = engagement, layers, now
        self.shared: PlanOffsets | None = None
        self.plans: dict[tuple[PlanOffsets, Reach], list[PlannedMessage]] = {}

    def __call__(self, expert: Expert) -> list[PlannedMessage]:
        if expert.plan_overrides:
            offsets = self.layers.for_expert(expert)
        else:
            if self.shared is None:
                self.shared = self.layers.for_expert(expert)
            offsets = self.shared
        key = (offsets, reach_of(expert))
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = plan_invitation(
                self.engagement.starts_at,
                self.engagement.ends_at,
                self.engagement.time_zone,
                offsets,
                now=self.now,
                reach=key[1],
            )
        return plan


async def _change(
    session: AsyncSession,
    engagement: Engagement,
    moves: dict[int, PlannedMessage],
    drops: dict[int, Invitation],
    now: datetime,
) -> None:
    """Move or drop the messages the plan changed, loaded together in one query."""
    ids = [*moves, *drops]
    for chunk in _chunks(ids):
        for message in await session.scalars(select(Message).where(Message.id.in_(chunk))):
            planned = moves.get(message.id)
            if planned is not None:
                message.due_at = planned.due_at
                message.next_attempt_at = planned.due_at
                message.not_after = planned.not_after
                message.status_reason = "moved with the engagement"
                message.updated_at = now
            else:
                invitation = drops[message.id]
                reason = _drop_reason(engagement, invitation)
                message.move(_drop_status(invitation), reason, now)


async def load_channels(session: AsyncSession, experts: Sequence[Expert]) -> None:
    """Consents and contact details, so the plan is built from what can reach each person:
    the rows of each kind in one query per chunk, for those not loaded yet (the experts
    themselves are not fetched again)."""
    kinds = (
        ("consents", ChannelConsent, ChannelConsent.expert_id),
        ("contact_points", ContactPoint, ContactPoint.expert_id),
    )
    states = [(e, inspect(e).dict) for e in experts]
    for name, model, expert_column in kinds:
        # Not in the instance's dict: never loaded, or expired (so loaded again).
        todo = {e.id: e for e, loaded in states if name not in loaded}
        found: dict[int, list[Any]] = {expert_id: [] for expert_id in todo}
        for chunk in _chunks(list(todo)):
            query = select(expert_column, model).where(expert_column.in_(chunk))
            for expert_id, row in await session.execute(query):
                found[expert_id].append(row)
        for expert_id, rows in found.items():
            set_committed_value(todo[expert_id], name, rows)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class _Slot(NamedTuple):
    """The newest message for one expert and purpose: what re-planning compares."""

    id: int
    status: MessageStatus
    attempts: int
    due_at: datetime
    seen: int  # how many there have been, so a new one gets a new key


async def _slots(
    session: AsyncSession, engagement_id: int, expert_id: int | None
) -> dict[tuple[int, Purpose], _Slot]:
    """For each expert and purpose: the newest message, and how many there have been."""
    query = select(
        Message.id,
        Message.expert_id,
        Message.purpose,
        Message.status,
        Message.attempts,
        Message.due_at,
    ).where(Message.engagement_id == engagement_id)
    if expert_id is not None:
        query = query.where(Message.expert_id == expert_id)
    slots: dict[tuple[int, Purpose], _Slot] = {}
    rows = await session.execute(query.order_by(Message.id))
    for id_, expert, purpose, status, attempts, due_at in rows:
        earlier = slots.get((expert, purpose))
        seen = earlier.seen + 1 if earlier is not None else 1
        slots[(expert, purpose)] = _Slot(id_, status, attempts, due_at, seen)
    return slots


def should_plan(engagement: Engagement, invitation: Invitation) -> bool:
    return (
        engagement.status is EngagementStatus.PUBLISHED
        and invitation.answer is not InvitationAnswer.NO
        and invitation.expert.status is not ExpertStatus.WITHDRAWN
    )


def _drop_reason(engagement: Engagement, invitation: Invitation) -> str:
    if invitation.answer is InvitationAnswer.NO:
        return "they said no, so nothing more is sent about it"
    if invitation.expert.status is ExpertStatus.WITHDRAWN:
        return "they have withdrawn"
    if engagement.status is EngagementStatus.CANCELLED:
        return "the engagement was cancelled"
    return "no longer in the plan after the engagement changed"


def _drop_status(invitation: Invitation) -> MessageStatus:
    if invitation.answer is InvitationAnswer.NO:
        return MessageStatus.SUPPRESSED
    return MessageStatus.CANCELLED


def _apply(
    new: list[dict[str, Any]],
    moves: dict[int, PlannedMessage],
    slot: _Slot | None,
    planned: PlannedMessage,
    engagement: Engagement,
    invitation: Invitation,
    now: datetime,
    report: PlanReport,
) -> None:
    # A message dropped before it was ever tried (they said no, then yes; a move that
    # dropped a reminder another move wants back) is final, so the plan adds a new one.
    dropped = slot is not None and slot.attempts == 0 and slot.status in _DROPPED
    if slot is None or dropped:
        count = slot.seen if slot is not None else 0
        key = message_key(engagement.id, invitation.expert_id, planned.purpose, count)
        new.append(_new_row(key, planned, engagement.id, invitation.expert_id, now))
        report.added += 1
    elif slot.status is MessageStatus.PENDING and slot.due_at != planned.due_at:
        moves[slot.id] = planned
        report.moved += 1
    else:
        report.unchanged += 1


def new_message(
    key: str, planned: PlannedMessage, engagement_id: int | None, expert_id: int, now: datetime
) -> Message:
    return Message(**_new_row(key, planned, engagement_id, expert_id, now))


def _new_row(
    key: str, planned: PlannedMessage, engagement_id: int | None, expert_id: int, now: datetime
) -> dict[str, Any]:
    """A planned message's columns, for :func:`new_message` or a bulk INSERT."""
    return {
        "expert_id": expert_id,
        "engagement_id": engagement_id,
        "purpose": planned.purpose,
        "idempotency_key": key,
        "due_at": planned.due_at,
        "next_attempt_at": planned.due_at,
        "not_after": planned.not_after,
        "status": MessageStatus.PENDING,
        "created_at": now,
        "updated_at": now,
    }
