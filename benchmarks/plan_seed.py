"""The organisation benchmarks/plan.py plans for, inserted in bulk: link workers, experts,
a little history (messages sent, replies), engagements and one invitation per expert.
See benchmarks/plan.py for its shape and why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.bootstrap import App
from store.enums import (
    Channel,
    EngagementStatus,
    ExpertStatus,
    InvitationAnswer,
    MessageStatus,
    PastoralLevel,
    Purpose,
    Role,
)
from store.models import Engagement, Expert, Invitation, Message, Reply, Staff
from tests.builders import FULL_DETAILS

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # a Monday morning, GMT, far from DST
TODAY = NOW.date()
LINK_WORKERS = 20
PER_ENGAGEMENT = 100
CHUNK = 10_000  # rows per bulk INSERT
LEVELS = (
    PastoralLevel.OFF,
    PastoralLevel.MONTHLY,
    PastoralLevel.FORTNIGHTLY,
    PastoralLevel.WEEKLY,
)


@dataclass
class Seeded:
    experts: int
    engagement_ids: list[int]
    invitations: int
    rows: dict[str, int]


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _expert_row(i: int, staff_ids: list[int], office_tz: str) -> dict[str, Any]:
    joined = NOW - timedelta(days=60)
    return {
        "ref": f"B{i:07d}",
        "preferred_name": f"Person {i}",
        "time_zone": "Europe/Dublin" if i % 20 == 7 else office_tz,
        "language": "en",
        "access_needs": [],
        "preferred_channel": Channel.SMS,
        "fallback_channels": [],
        "discreet": True,
        "pastoral_level": LEVELS[i % 4],
        # A few want a longer pre-brief: the planner then works out their own offsets.
        "plan_overrides": {"pre_brief_days": 10} if i % 50 == 9 else {},
        "contact_on_bank_holidays": False,
        "paused_until": TODAY + timedelta(days=10) if i % 100 == 42 else None,
        "status": ExpertStatus.ACTIVE,
        "payment_preference": None,
        "link_worker_id": staff_ids[(i // 4) % len(staff_ids)],
        "created_at": joined,
        "updated_at": joined,
    }


def _sent(
    expert_id: int, purpose: Purpose, engagement_id: int | None, ago: timedelta, key: str
) -> dict[str, Any]:
    at = NOW - ago
    return {
        "expert_id": expert_id,
        "engagement_id": engagement_id,
        "purpose": purpose,
        "idempotency_key": key,
        "due_at": at,
        "not_after": at + timedelta(days=3),
        "status": MessageStatus.SENT,
        "status_reason": None,
        "attempts": 1,
        "deferrals": 0,
        "requeues": 0,
        "next_attempt_at": at,
        "channel": Channel.SMS,
        "sent_at": at,
        "variant": expert_id % 3 if purpose is Purpose.PASTORAL else None,
        "needs_approval": False,
        "created_at": at - timedelta(days=1),
        "updated_at": at,
    }


async def seed(app: App, count: int) -> Seeded:
    """``count`` experts and all the rest, in the organisation's zone (one in twenty lives
    in another)."""
    office_tz = app.settings.default_time_zone
    rows: dict[str, int] = {}
    async with app.sessions.begin() as session:
        staff = [
            Staff(
                name=f"Worker {n}",
                email=f"worker{n}@example.org",
                role=Role.LINK_WORKER,
                approve_pastoral=n % 4 == 0,
                created_at=NOW - timedelta(days=400),
            )
            for n in range(LINK_WORKERS)
        ]
        session.add_all(staff)
        await session.flush()
        # One approving worker is away this week; a colleague covers their drafts.
        staff[4].away_from, staff[4].away_until = TODAY - timedelta(days=1), TODAY + timedelta(6)
        staff[4].cover_id = staff[5].id
        staff_ids = [s.id for s in staff]
        rows["staff"] = len(staff)

        experts = [_expert_row(i, staff_ids, office_tz) for i in range(count)]
        for chunk in _chunks(experts):
            await session.execute(insert(Expert), chunk)
        del experts
        expert_ids = list(await session.scalars(select(Expert.id).order_by(Expert.id)))
        rows["experts"] = len(expert_ids)

        past = Engagement(
            title="Last month's panel",
            time_zone=app.settings.default_time_zone,
            starts_at=NOW - timedelta(days=4),
            ends_at=NOW - timedelta(days=4) + timedelta(hours=2),
            lead_id=staff_ids[0],
            status=EngagementStatus.COMPLETED,
            plan_overrides={},
            created_at=NOW - timedelta(days=40),
            updated_at=NOW - timedelta(days=3),
            **FULL_DETAILS,
        )
        session.add(past)
        await session.flush()

        history: list[dict[str, Any]] = []
        replies: list[dict[str, Any]] = []
        for i, expert_id in enumerate(expert_ids):
            if i % 20 == 1:  # a pastoral hello three days ago
                key = f"exp{expert_id}:pastoral:seed"
                history.append(_sent(expert_id, Purpose.PASTORAL, None, timedelta(days=3), key))
            elif i % 20 == 11:  # a check-in after last week's panel
                key = f"eng{past.id}:exp{expert_id}:check_in"
                history.append(_sent(expert_id, Purpose.CHECK_IN, past.id, timedelta(days=2), key))
            if i % 50 == 3:
                replies.append(
                    {
                        "expert_id": expert_id,
                        "channel": Channel.SMS,
                        "provider_ref": f"seed-{expert_id}",
                        "body": "Thanks, see you then",
                        "intent": None,
                        "received_at": NOW - timedelta(days=5),
                    }
                )
        for chunk in _chunks(history):
            await session.execute(insert(Message), chunk)
        for chunk in _chunks(replies):
            await session.execute(insert(Reply), chunk)
        rows["sent_messages"], rows["replies"] = len(history), len(replies)

        engagements = [
            {
                "title": f"Panel {k}",
                "kind": "meeting",
                "starts_at": NOW + timedelta(days=8 + k % 50, hours=4),
                "ends_at": NOW + timedelta(days=8 + k % 50, hours=6),
                "time_zone": office_tz,
                "lead_id": staff_ids[k % len(staff_ids)],
                "status": EngagementStatus.PUBLISHED,
                "plan_overrides": {},
                "sequence": 0,
                "created_at": NOW - timedelta(days=1),
                "updated_at": NOW - timedelta(days=1),
                **FULL_DETAILS,
            }
            for k in range((count + PER_ENGAGEMENT - 1) // PER_ENGAGEMENT)
        ]
        for chunk in _chunks(engagements):
            await session.execute(insert(Engagement), chunk)
        engagement_ids = list(
            await session.scalars(
                select(Engagement.id)
                .where(Engagement.status == EngagementStatus.PUBLISHED)
                .order_by(Engagement.id)
            )
        )
        rows["engagements"] = len(engagement_ids)

        answers = (
            [InvitationAnswer.NO] + [InvitationAnswer.YES] * 3 + [InvitationAnswer.PENDING] * 6
        )
        invitations = [
            {
                "engagement_id": engagement_ids[i // PER_ENGAGEMENT],
                "expert_id": expert_id,
                "answer": answers[i % len(answers)],
                "answered_at": None
                if answers[i % len(answers)] is InvitationAnswer.PENDING
                else NOW - timedelta(hours=12),
                "costs_settled": False,
                "created_at": NOW - timedelta(days=1),
            }
            for i, expert_id in enumerate(expert_ids)
        ]
        for chunk in _chunks(invitations):
            await session.execute(insert(Invitation), chunk)
        rows["invitations"] = len(invitations)
    if app.engine.dialect.name == "postgresql":
        async with app.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    return Seeded(len(expert_ids), engagement_ids, len(invitations), rows)
