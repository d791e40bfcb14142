"""Alerts to staff: sent at once, never lost, never naming anyone."""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import App
from scheduling.clock import SimulatedClock
from scheduling.people.staff_alerts import LEASE, StaffAlerts, queue_alert
from scheduling.people.tasks import open_task
from store.enums import AlertStatus, Channel, TaskKind
from store.models import StaffAlert
from tests.builders import add_staff


async def _queue(app: App, *, channel: Channel | None = None, to: str | None = None) -> int:
    async with app.sessions.begin() as session:
        staff = await add_staff(session, now=app.clock.now())
        staff.alert_channel, staff.alert_to = channel, to
        task = await open_task(
            session,
            kind=TaskKind.URGENT_REPLY,
            title="Urgent",
            details="Ana wrote something worrying",
            now=app.clock.now(),
            assignee=staff,
            urgent=True,
        )
        assert await queue_alert(
            session, staff, reason="urgent_reply", task=task, dedupe_key="k1", now=app.clock.now()
        )
        # The same alert again (a retried webhook, a second job) is not queued twice.
        assert not await queue_alert(
            session, staff, reason="urgent_reply", task=task, dedupe_key="k1", now=app.clock.now()
        )
        return task.id


def _files(app: App, channel: Channel) -> list[Path]:
    folder = app.settings.resolved_outbox_dir / channel.value
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


async def _alerts(app: App) -> list[StaffAlert]:
    async with app.sessions() as session:
        return list(await session.scalars(select(StaffAlert)))


async def test_an_alert_goes_to_their_work_email_by_default_and_names_nobody(app: App) -> None:
    task_id = await _queue(app)
    assert await app.staff_alerts().send_due() == 1
    [sent] = _files(app, Channel.EMAIL)
    text = sent.read_text()
    assert "top of Home and your Tasks list" in text and "within the hour" in text
    assert f"task {task_id}" not in text  # no internal ids: words, or a link when we have one
    assert "Ana" not in text and "worrying" not in text
    [alert] = await _alerts(app)
    assert alert.status is AlertStatus.SENT and alert.channel is Channel.EMAIL
    assert await app.staff_alerts().send_due() == 0  # sent once


async def test_an_alert_links_to_its_task_when_the_public_address_is_known(app: App) -> None:
    task_id = await _queue(app)
    alerts = StaffAlerts(
        app.sessions, app.channels, app.renderer, app.clock, "https://linkline.example.org/"
    )
    assert await alerts.send_due() == 1
    [sent] = _files(app, Channel.EMAIL)
    # The body, not the whole file: a keyed Message-ID may hold "=XX" that is not an escape.
    email = BytesParser(policy=policy.default).parsebytes(sent.read_bytes())
    body = email.get_body(("plain",))
    assert body is not None
    assert f"https://linkline.example.org/tasks/{task_id}" in body.get_content()


async def test_an_alert_goes_by_text_when_they_chose_that(app: App) -> None:
    await _queue(app, channel=Channel.SMS, to="+447123000111")
    assert await app.staff_alerts().send_due() == 1
    assert len(_files(app, Channel.SMS)) == 1 and _files(app, Channel.EMAIL) == []


async def test_an_alert_left_by_a_worker_that_died_is_sent_again(
    app: App, clock: SimulatedClock
) -> None:
    await _queue(app)
    async with app.sessions.begin() as session:
        alert = await session.scalar(select(StaffAlert))
        assert alert is not None
        alert.status, alert.lease_until = AlertStatus.SENDING, clock.now() + LEASE
    assert await app.staff_alerts().send_due() == 0  # another worker may still be on it
    clock.advance(LEASE + timedelta(seconds=1))
    assert await app.staff_alerts().send_due() == 1
