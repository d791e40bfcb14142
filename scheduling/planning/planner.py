"""Writing the contact plan into the outbox, and keeping it right as engagements change.

Re-planning is idempotent: each message has a key built from engagement, expert and
purpose, so running it twice changes nothing. Only messages not yet sent are moved or
cancelled; anything already sent stays in the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from scheduling.people.handoff import open_phone_task_for_cancellation, open_venue_task
from scheduling.people.ledger import open_cancellation_costs
from scheduling.people.promises import keep_by_message, link_message, link_task, record_promises
from scheduling.people.task_scripts import person_context, render_task_script, staff_for
from scheduling.people.tasks import close_obsolete_tasks, open_task
from scheduling.planning.plan_settings import Layers, layers_for
from scheduling.rules.decisions import came
from scheduling.rules.plan import CANCELLATION_NOTICE, PlannedMessage, PlanOffsets, plan_invitation
from scheduling.rules.promises import FOLLOW_UP_AFTER, can_call, details_channels
from scheduling.rules.reach import Reach, reach_of
from scheduling.rules.wording import spoken_datetime
from scheduling.text.context import ABOUT_OUTCOMES, template_context
from store.enums import (
    Channel,
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    Purpose,
    TaskKind,
)
from store.models import (
    ChannelConsent,
    ContactPoint,
    Engagement,
    Expert,
    Invitation,
    Message,
    Promise,
    Staff,
)

_PLANNED = (Purpose.PRE_BRIEF, Purpose.REMINDER, Purpose.CHECK_IN, Purpose.DE_BRIEF)
_CHUNK = 5000  # ids per IN (...) list: well under every database's parameter limit
_MESSAGES = cast(Table, Message.__table__)  # for a Core INSERT of plain rows
FEEDBACK_WINDOW = timedelta(days=14)  # "you said, we did" is still worth sending this long
_DROPPED = frozenset({MessageStatus.CANCELLED, MessageStatus.SUPPRESSED})
# Someone who was sent something, or phoned about it, knows the old time.
_TOLD = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.UNCERTAIN,
        MessageStatus.HANDED_TO_PERSON,
    }
)


def message_key(engagement_id: int, expert_id: int, purpose: Purpose, version: int = 0) -> str:
    suffix = f":v{version}" if version else ""
    return f"eng{engagement_id}:exp{expert_id}:{purpose.value}{suffix}"


@dataclass
class PlanReport:
    added: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0


async def load_engagement(session: AsyncSession, engagement_id: int) -> Engagement | None:
    """The engagement with its lead, and everyone invited with their link worker and
    cover: three queries (engagement and lead; invitations and experts; link workers
    and cover), a round trip each, however many are invited."""
    return await session.scalar(
        select(Engagement)
        .where(Engagement.id == engagement_id)
        .options(
            selectinload(Engagement.invitations)
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
        if _should_plan(engagement, invitation):
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


def _should_plan(engagement: Engagement, invitation: Invitation) -> bool:
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


def _new_message(
    key: str, planned: PlannedMessage, engagement_id: int | None, expert_id: int, now: datetime
) -> Message:
    return Message(**_new_row(key, planned, engagement_id, expert_id, now))


def _new_row(
    key: str, planned: PlannedMessage, engagement_id: int | None, expert_id: int, now: datetime
) -> dict[str, Any]:
    """A planned message's columns, for :func:`_new_message` or a bulk INSERT."""
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


async def _messages_by_key(
    session: AsyncSession, engagement_id: int, expert_id: int | None = None
) -> dict[str, Message]:
    query = select(Message).where(Message.engagement_id == engagement_id)
    if expert_id is not None:
        query = query.where(Message.expert_id == expert_id)
    return {m.idempotency_key: m for m in await session.scalars(query)}


async def move_engagement(
    session: AsyncSession,
    engagement: Engagement,
    starts_at: datetime,
    ends_at: datetime,
    base: PlanOffsets,
    now: datetime,
) -> PlanReport:
    """Move unsent messages with it, and tell anyone who already heard the old time."""
    engagement.starts_at, engagement.ends_at = starts_at, ends_at
    engagement.sequence += 1
    engagement.updated_at = now
    existing = await _messages_by_key(session, engagement.id)
    report = await replan_engagement(session, engagement, base, now)
    told = {m.expert_id for m in existing.values() if m.status in _TOLD}
    for earlier in existing.values():
        if earlier.purpose is Purpose.TIME_CHANGED and earlier.status is MessageStatus.PENDING:
            earlier.move(MessageStatus.CANCELLED, "replaced by a newer change of time", now)
    for invitation in engagement.invitations:
        if invitation.expert_id in told and _should_plan(engagement, invitation):
            key = message_key(
                engagement.id, invitation.expert_id, Purpose.TIME_CHANGED, engagement.sequence
            )
            notice = PlannedMessage(Purpose.TIME_CHANGED, now, starts_at)
            session.add(_new_message(key, notice, engagement.id, invitation.expert_id, now))
            report.added += 1
    return report


async def cancel_engagement(
    session: AsyncSession, engagement: Engagement, reason: str, now: datetime
) -> PlanReport:
    """Cancel unsent messages, tell everyone who might come, and give people the work
    the 24-hour rule needs when a notice cannot be relied on."""
    report = PlanReport()
    was_published = engagement.status is EngagementStatus.PUBLISHED
    engagement.status = EngagementStatus.CANCELLED
    engagement.cancelled_at = now
    engagement.cancel_reason = reason
    engagement.updated_at = now
    earlier = list((await _messages_by_key(session, engagement.id)).values())
    for message in earlier:
        if message.status is MessageStatus.PENDING:
            message.move(MessageStatus.CANCELLED, "the engagement was cancelled", now)
            report.cancelled += 1
    # Work about its earlier messages (a pre-brief to phone through, a send that failed)
    # can no longer help, and would sit beside the calls about the cancellation itself.
    on = now.astimezone(ZoneInfo(engagement.time_zone)).strftime("%-d %B %Y")
    await close_obsolete_tasks(
        session,
        [m.id for m in earlier if m.purpose is not Purpose.CANCELLATION],
        f"The engagement was cancelled on {on}, so this is no longer needed.",
        now,
    )
    # A draft was never published, so nobody was told of it: there is nothing to undo.
    notify = [
        i
        for i in engagement.invitations
        if was_published
        and i.answer is not InvitationAnswer.NO
        and i.expert.status is not ExpertStatus.WITHDRAWN
    ]
    for invitation in notify:
        key = message_key(engagement.id, invitation.expert_id, Purpose.CANCELLATION)
        notice = PlannedMessage(Purpose.CANCELLATION, now, engagement.starts_at)
        session.add(_new_message(key, notice, engagement.id, invitation.expert_id, now))
        report.added += 1
    late = engagement.starts_at - now < CANCELLATION_NOTICE
    if late:
        for invitation in notify:
            await open_phone_task_for_cancellation(session, engagement, invitation.expert, now)
        if notify:
            await open_venue_task(session, engagement, now)
    # What people had spent or booked is owed: a line each in the ledger (not a task).
    await open_cancellation_costs(session, notify, now)
    return report


async def plan_feedback(session: AsyncSession, engagement: Engagement, now: datetime) -> PlanReport:
    """One "you said, we did" message for each person who came, once per engagement.

    The text is rendered when it is sent, so outcomes corrected before then go out as
    corrected; anyone who already had theirs is not sent a second one.
    """
    report = PlanReport()
    existing = await _messages_by_key(session, engagement.id)
    for invitation in engagement.invitations:
        if not came(invitation) or invitation.expert.status is ExpertStatus.WITHDRAWN:
            continue
        key = message_key(engagement.id, invitation.expert_id, Purpose.FEEDBACK)
        if key in existing:
            report.unchanged += 1
            continue
        planned = PlannedMessage(Purpose.FEEDBACK, now, now + FEEDBACK_WINDOW)
        session.add(_new_message(key, planned, engagement.id, invitation.expert_id, now))
        report.added += 1
    return report


async def keep_word(session: AsyncSession, message: Message, now: datetime) -> None:
    """A message went out: it may keep an earlier promise, and what it promised enters
    the ledger with its follow-up planned at once (a message or a task, never neither)."""
    await keep_by_message(session, message, now)
    for promise in await record_promises(session, message, now):
        if promise.kind in ("details", "outcomes") and message.engagement is not None:
            await _plan_follow_up(session, promise, message, message.engagement, now)


async def _plan_follow_up(
    session: AsyncSession, promise: Promise, message: Message, engagement: Engagement, now: datetime
) -> None:
    """The details on the first agreed channel that may show them, due soon after; or,
    when none can, a task for the link worker to go over them, due by the promise's
    deadline (before the reminder). Either is planned once per engagement and person."""
    expert, outcomes = message.expert, promise.kind == "outcomes"
    if details_channels(expert):
        key = message_key(engagement.id, expert.id, Purpose.DETAILS) + (":outcomes" * outcomes)
        follow_up = await session.scalar(select(Message).where(Message.idempotency_key == key))
        if follow_up is None:
            due = now + FOLLOW_UP_AFTER
            planned = PlannedMessage(Purpose.DETAILS, due, max(promise.due_at, due))
            follow_up = _new_message(key, planned, engagement.id, expert.id, now)
            follow_up.variant = ABOUT_OUTCOMES if outcomes else 0
            session.add(follow_up)
            await session.flush()
        await link_message(promise, follow_up, now)
        return
    context = template_context(message, True, now)
    number = next((p.value for p in expert.contact_points if p.channel is Channel.PHONE), "")
    script = render_task_script(
        "go_over_details",
        **{**context, **person_context(expert, now)},
        deadline=spoken_datetime(promise.due_at, expert.time_zone),
        number=number if can_call(expert) else "",
    )
    task = await open_task(
        session,
        kind=TaskKind.GO_OVER_DETAILS,
        title="Tell them what changed" if outcomes else "Go over the details with them",
        details=script,
        assignee=staff_for(expert, now),
        expert=expert,
        engagement=engagement,
        message=message,
        due_at=promise.due_at,
        dedupe_key=f"eng{engagement.id}:exp{expert.id}:go_over_{promise.kind}",
        now=now,
    )
    await link_task(promise, task, now)
