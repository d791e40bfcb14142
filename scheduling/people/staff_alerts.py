"""Alerts to staff on their own channel, sent within seconds and never lost.

An alert is a row first (queued in the same transaction as the task it points at), so a
crash between the reply arriving and the alert going cannot drop it; every worker's clock
sends what is due. A duplicate alert is a small cost next to a missing one, so an alert
whose worker died mid-send is simply sent again.

Alerts name no expert and quote nothing: they say a task is waiting and how soon it needs
a person. The staff member reads the rest in Linkline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from channels.base import ChannelError, OutgoingMessage, PermanentError
from channels.registry import ChannelRegistry
from scheduling.clock import Clock
from scheduling.text.rendering import Renderer, RenderError
from store.enums import AlertStatus, Channel
from store.models import Staff, StaffAlert, Task

log = logging.getLogger(__name__)

BATCH = 20
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8  # about half an hour of tries with the backoff below
FIRST_RETRY = timedelta(seconds=15)
LONGEST_RETRY = timedelta(minutes=10)


async def queue_alert(
    session: AsyncSession,
    staff: Staff,
    *,
    reason: str,
    task: Task | None,
    dedupe_key: str,
    now: datetime,
) -> bool:
    """Queue one alert unless one with this key exists; True when it was queued."""
    if await session.scalar(select(StaffAlert.id).where(StaffAlert.dedupe_key == dedupe_key)):
        return False
    session.add(
        StaffAlert(
            staff_id=staff.id,
            task_id=task.id if task is not None else None,
            reason=reason,
            dedupe_key=dedupe_key,
            next_attempt_at=now,
            created_at=now,
        )
    )
    await session.flush()
    return True


async def alert_each(
    session: AsyncSession,
    targets: Iterable[Staff],
    *,
    reason: str,
    task: Task | None,
    about: str,
    now: datetime,
) -> int:
    """One alert to each person, each once: ``about`` names what it is about (for example
    ``"overdue:12"``), so a re-run of the job that found it never alerts twice."""
    queued = 0
    for staff in dict.fromkeys(targets):
        queued += await queue_alert(
            session, staff, reason=reason, task=task, dedupe_key=f"{about}:{staff.id}", now=now
        )
    return queued


def alert_route(staff: Staff) -> tuple[Channel, str]:
    """The staff member's own channel and address; their work email unless they chose another."""
    if staff.alert_channel is not None and staff.alert_to:
        return staff.alert_channel, staff.alert_to
    return Channel.EMAIL, staff.email


@dataclass
class StaffAlerts:
    sessions: async_sessionmaker[AsyncSession]
    channels: ChannelRegistry
    renderer: Renderer
    clock: Clock
    public_url: str | None = None  # for a link to the task; without it, the words say where

    async def send_due(self) -> int:
        """Send every alert that is due; the number sent."""
        sent = 0
        while ids := await self._claim():
            for alert_id in ids:
                sent += await self._send_one(alert_id)
            if len(ids) < BATCH:
                break
        return sent

    async def _claim(self) -> list[int]:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            ids = list(
                await session.scalars(
                    select(StaffAlert.id)
                    .where(
                        or_(
                            (StaffAlert.status == AlertStatus.PENDING)
                            & (StaffAlert.next_attempt_at <= now),
                            # A worker died while sending: send again rather than never.
                            (StaffAlert.status == AlertStatus.SENDING)
                            & (StaffAlert.lease_until < now),
                        )
                    )
                    .order_by(StaffAlert.next_attempt_at, StaffAlert.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                await session.execute(
                    update(StaffAlert)
                    .where(StaffAlert.id.in_(ids))
                    .values(status=AlertStatus.SENDING, lease_until=now + LEASE)
                )
        return ids

    async def _send_one(self, alert_id: int) -> int:
        async with self.sessions.begin() as session:
            alert = await session.scalar(
                select(StaffAlert)
                .where(StaffAlert.id == alert_id)
                .options(selectinload(StaffAlert.staff))
            )
            if alert is None:
                return 0
            task = await session.get(Task, alert.task_id) if alert.task_id else None
            channel, to = alert_route(alert.staff)
            if alert.channel is Channel.EMAIL or (
                alert.attempts >= MAX_ATTEMPTS // 2 and channel is not Channel.EMAIL
            ):
                channel, to = Channel.EMAIL, alert.staff.email  # their own channel gave way
            try:
                rendered = self.renderer.render_named(
                    f"alerts/{alert.reason}.txt",
                    {
                        "staff": alert.staff.name.split()[0],
                        "link": f"{self.public_url.rstrip('/')}/tasks/{task.id}"
                        if task and self.public_url
                        else None,
                        "urgent": bool(task and task.urgent),
                    },
                )
            except RenderError as exc:
                self._give_up(alert, str(exc))
                return 0
            outgoing = OutgoingMessage(
                idempotency_key=f"alert-{alert.id}-{alert.attempts}",
                channel=channel,
                to=to,
                body=rendered.body,
                subject=rendered.subject,
                recipient_name=alert.staff.name,
            )
            alert.channel = channel
            alert.attempts += 1
        now = self.clock.now()
        error: ChannelError | None = None
        sender = self.channels.get(channel)
        if sender is None:
            error = PermanentError(f"no {channel.value} channel is set up", code="no_channel")
        else:
            try:
                # To staff, not an expert: the one send outside the gate (see its test).
                await sender.send(outgoing)
            except ChannelError as exc:
                error = exc
            except Exception as exc:  # a library bug must not lose the alert
                log.exception("staff alert %s: unexpected error", alert_id)
                error = ChannelError(f"unexpected error ({type(exc).__name__})")
        async with self.sessions.begin() as session:
            alert = await session.get(StaffAlert, alert_id)
            if alert is None:
                return 0
            alert.lease_until = None
            if error is None:
                alert.status, alert.sent_at, alert.error = AlertStatus.SENT, now, None
                log.info("staff alert %s sent by %s", alert.id, channel.value)
                return 1
            alert.error = error.detail[:300]
            if isinstance(error, PermanentError) and channel is not Channel.EMAIL:
                alert.channel = Channel.EMAIL  # next try goes to their work email
            if alert.attempts >= MAX_ATTEMPTS:
                self._give_up(alert, alert.error)
                return 0
            alert.status = AlertStatus.PENDING
            alert.next_attempt_at = now + min(
                FIRST_RETRY * 2 ** (alert.attempts - 1), LONGEST_RETRY
            )
            log.warning("staff alert %s not sent (%s); trying again", alert.id, error.code)
        return 0

    @staticmethod
    def _give_up(alert: StaffAlert, why: str) -> None:
        """The reply stays unacknowledged, so escalation still reaches someone else."""
        alert.status, alert.error, alert.lease_until = AlertStatus.FAILED, why[:300], None
        log.error("staff alert %s could not be sent: %s", alert.id, why)
