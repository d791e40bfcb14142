"""How each channel is doing: recent sends and failures, the last error, and daily counts.

Everything is counted from delivery attempts, one per try on one channel, so a message
that fell back from SMS to email counts once against each:

- **sent**: the provider accepted it (``accepted``);
- **delivered**: the provider then confirmed delivery (a report of ``delivered`` or
  ``read``; only text messages have these so far). Delivered ones are also sent;
- **failed**: the try did not go through (a temporary or permanent failure, or an
  outcome nobody knows because the worker stopped).

Days are calendar days in the organisation's zone (they follow the clocks), and an attempt
counts on the day it started. The day boundaries are worked out here and compared in SQL,
so SQLite and PostgreSQL group alike without date functions that differ between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.delivery.log import midnight, scrub
from bot.settings import ChannelMode
from scheduling.clock import local_today
from store.enums import AttemptOutcome, Channel, MessageStatus
from store.models import DeliveryAttempt, Message

FAILURES = (
    AttemptOutcome.TRANSIENT_FAILURE,
    AttemptOutcome.PERMANENT_FAILURE,
    AttemptOutcome.UNKNOWN,
)
DELIVERED_STATUSES = ("delivered", "read")
CHART_DAYS = 14
# Fewer tries than this in a day say too little to call a channel failing (one bad send).
FAILING_NEEDS_TRIES = 3


@dataclass(frozen=True)
class Counts:
    sent: int = 0
    failed: int = 0

    @property
    def error_rate(self) -> float | None:
        """Failures as a share of every finished try; None when there were none."""
        tries = self.sent + self.failed
        return self.failed / tries if tries else None

    @property
    def error_percent(self) -> str:
        rate = self.error_rate
        if rate is None:
            return "No tries"
        return f"{rate * 100:.1f}".removesuffix(".0") + "%"

    def failing(self, percent: int) -> bool:
        """At least ``percent`` of enough tries failed: a person should look now."""
        rate = self.error_rate
        tries = self.sent + self.failed
        return rate is not None and tries >= FAILING_NEEDS_TRIES and rate * 100 >= percent


@dataclass(frozen=True)
class ChannelHealth:
    channel: Channel
    live: bool
    detail: str
    last_success: datetime | None
    last_day: Counts
    last_week: Counts
    last_error: str
    last_error_at: datetime | None
    failing: bool = False  # the last day's tries failed at or above the threshold
    threshold: int = 50  # that threshold, in %, to say beside the state


@dataclass(frozen=True)
class DayCounts:
    day: date  # a calendar day in the organisation's zone
    sent: int = 0
    delivered: int = 0
    failed: int = 0


def _is(outcomes: Sequence[AttemptOutcome]) -> ColumnElement[int]:
    return case((DeliveryAttempt.outcome.in_(outcomes), 1), else_=0)


async def _counts_since(session: AsyncSession, since: datetime) -> dict[Channel, Counts]:
    rows = await session.execute(
        select(
            DeliveryAttempt.channel,
            func.sum(_is([AttemptOutcome.ACCEPTED])),
            func.sum(_is(FAILURES)),
        )
        .where(DeliveryAttempt.started_at >= since)
        .group_by(DeliveryAttempt.channel)
    )
    return {channel: Counts(int(sent or 0), int(failed or 0)) for channel, sent, failed in rows}


async def channel_health(
    session: AsyncSession,
    now: datetime,
    modes: Sequence[ChannelMode],
    failing_percent: int = 50,
) -> list[ChannelHealth]:
    """For each channel: live or dry-run, the last send that worked, how the last day and
    week went, the most recent error (a provider's words, with anything like a number or
    address taken out), and whether it is failing (``failing_percent`` of the last day's
    tries or more failed)."""
    day = await _counts_since(session, now - timedelta(hours=24))
    week = await _counts_since(session, now - timedelta(days=7))
    rows = await session.execute(
        select(DeliveryAttempt.channel, func.max(DeliveryAttempt.started_at))
        .where(DeliveryAttempt.outcome == AttemptOutcome.ACCEPTED)
        .group_by(DeliveryAttempt.channel)
    )
    last_success: dict[Channel, datetime] = dict(rows.all())
    found = []
    for mode in modes:
        error = (
            await session.execute(
                select(DeliveryAttempt.error, DeliveryAttempt.started_at)
                .where(
                    DeliveryAttempt.channel == mode.channel,
                    DeliveryAttempt.outcome.in_(FAILURES),
                    DeliveryAttempt.error.is_not(None),
                )
                .order_by(DeliveryAttempt.started_at.desc(), DeliveryAttempt.id.desc())
                .limit(1)
            )
        ).first()
        found.append(
            ChannelHealth(
                channel=mode.channel,
                live=mode.live,
                detail=mode.detail,
                last_success=last_success.get(mode.channel),
                last_day=day.get(mode.channel, Counts()),
                last_week=week.get(mode.channel, Counts()),
                last_error=scrub(error.error) if error else "",
                last_error_at=error.started_at if error else None,
                failing=day.get(mode.channel, Counts()).failing(failing_percent),
                threshold=failing_percent,
            )
        )
    return found


async def daily_counts(
    session: AsyncSession, now: datetime, days: int = CHART_DAYS, *, tz: str
) -> dict[Channel, list[DayCounts]]:
    """Sent, delivered and failed per channel per calendar day in ``tz``, the last ``days``
    days up to today, oldest first; every channel with any attempt in that time, every day
    listed."""
    today = local_today(now, tz)
    first = today - timedelta(days=days - 1)
    starts = [midnight(first + timedelta(days=i), tz) for i in range(days + 1)]
    # Which day an attempt falls on: the latest day whose start it is not before.
    day_index = case(
        *((DeliveryAttempt.started_at >= starts[i], i) for i in range(days - 1, 0, -1)),
        else_=0,
    )
    tagged = (
        select(
            DeliveryAttempt.channel.label("channel"),
            day_index.label("day"),
            _is([AttemptOutcome.ACCEPTED]).label("sent"),
            case((DeliveryAttempt.provider_status.in_(DELIVERED_STATUSES), 1), else_=0).label(
                "delivered"
            ),
            _is(FAILURES).label("failed"),
        )
        .where(
            DeliveryAttempt.started_at >= starts[0],
            DeliveryAttempt.started_at < starts[-1],
            DeliveryAttempt.outcome != AttemptOutcome.IN_PROGRESS,
        )
        .subquery()
    )
    # Grouped outside, by the subquery's columns: PostgreSQL will not match a CASE in the
    # GROUP BY to the same CASE in the SELECT once each has its own bound parameters.
    rows = await session.execute(
        select(
            tagged.c.channel,
            tagged.c.day,
            func.sum(tagged.c.sent),
            func.sum(tagged.c.delivered),
            func.sum(tagged.c.failed),
        ).group_by(tagged.c.channel, tagged.c.day)
    )
    counted: dict[Channel, dict[int, DayCounts]] = {}
    for channel, index, sent, delivered, failed in rows:
        counted.setdefault(Channel(channel), {})[int(index)] = DayCounts(
            first + timedelta(days=int(index)),
            int(sent or 0),
            int(delivered or 0),
            int(failed or 0),
        )
    return {
        channel: [
            counted[channel].get(i, DayCounts(first + timedelta(days=i))) for i in range(days)
        ]
        for channel in Channel
        if channel in counted
    }


# The states the dashboard counts per channel, each a link to the same messages in the
# delivery log. A waiting message has no channel yet (it is chosen when it goes), so
# waiting ones are counted once, for every channel.
DASHBOARD_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED)


@dataclass(frozen=True)
class StatusCount:
    status: MessageStatus
    count: int


@dataclass(frozen=True)
class Dashboard:
    waiting: int
    by_channel: dict[Channel, list[StatusCount]]


async def message_counts(session: AsyncSession, first_day: date, *, tz: str) -> Dashboard:
    """Messages due from ``first_day`` (in ``tz``) on, by state (and channel once chosen):
    the same filter the delivery log applies, so each number matches the list it opens."""
    since = Message.due_at >= midnight(first_day, tz)
    waiting = await session.scalar(
        select(func.count(Message.id)).where(since, Message.status == MessageStatus.PENDING)
    )
    rows = await session.execute(
        select(Message.channel, Message.status, func.count(Message.id))
        .where(since, Message.channel.is_not(None), Message.status.in_(DASHBOARD_STATUSES))
        .group_by(Message.channel, Message.status)
    )
    counted = {(Channel(c), MessageStatus(s)): int(n) for c, s, n in rows if c is not None}
    return Dashboard(
        int(waiting or 0),
        {
            channel: [StatusCount(s, counted.get((channel, s), 0)) for s in DASHBOARD_STATUSES]
            for channel in Channel
            if any((channel, s) in counted for s in DASHBOARD_STATUSES)
        },
    )
