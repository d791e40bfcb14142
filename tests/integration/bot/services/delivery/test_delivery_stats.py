"""Counting delivery attempts per channel: by London calendar day (the clocks included),
the last day and week, and the last error with anything personal taken out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.bootstrap import App
from bot.services.delivery.stats import Counts, DayCounts, channel_health, daily_counts
from bot.settings import ChannelMode
from store.enums import AttemptOutcome, Channel, MessageStatus, Purpose
from store.models import DeliveryAttempt, Message
from tests.builders import add_expert

# Mid-July: London is on BST, an hour ahead of UTC.
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
ACCEPTED = AttemptOutcome.ACCEPTED


async def _attempts(
    app: App, *tries: tuple[Channel, datetime, AttemptOutcome, dict[str, str]]
) -> None:
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        message = Message(
            expert_id=expert.id,
            purpose=Purpose.PASTORAL,
            idempotency_key="stats",
            due_at=NOW,
            next_attempt_at=NOW,
            status=MessageStatus.SENT,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(message)
        await session.flush()
        for channel, at, outcome, extra in tries:
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    channel=channel,
                    router_reason="test",
                    outcome=outcome,
                    worker="test",
                    started_at=at,
                    **extra,
                )
            )


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def test_daily_counts_group_by_london_day_over_the_last_fourteen_days(app: App) -> None:
    await _attempts(
        app,
        # 23:30 UTC on the 14th is 00:30 on the 15th in London.
        (Channel.SMS, _utc(7, 14, 23, 30), ACCEPTED, {}),
        # 22:30 UTC on the 14th is still the 14th in London; delivery was confirmed.
        (Channel.SMS, _utc(7, 14, 22, 30), ACCEPTED, {"provider_status": "delivered"}),
        (Channel.SMS, _utc(7, 10, 10), AttemptOutcome.PERMANENT_FAILURE, {"error": "x"}),
        (Channel.SMS, _utc(7, 10, 11), AttemptOutcome.TRANSIENT_FAILURE, {}),
        (Channel.SMS, _utc(7, 10, 12), AttemptOutcome.UNKNOWN, {}),
        # The first day shown is 2 July from 00:00 London time, which is 23:00 UTC on 1 July.
        (Channel.EMAIL, _utc(7, 1, 23, 30), ACCEPTED, {}),
        (Channel.EMAIL, _utc(7, 1, 22, 59), ACCEPTED, {}),  # 23:59 on 1 July: too old
        (Channel.TELEGRAM, _utc(7, 15, 11), AttemptOutcome.IN_PROGRESS, {}),  # not finished
    )
    async with app.sessions() as session:
        days = await daily_counts(session, NOW, tz=app.settings.default_time_zone)
    assert set(days) == {Channel.SMS, Channel.EMAIL}
    sms = {d.day: d for d in days[Channel.SMS]}
    assert [d.day for d in days[Channel.SMS]] == [
        date(2026, 7, 2) + timedelta(days=i) for i in range(14)
    ]
    assert sms[date(2026, 7, 15)] == DayCounts(date(2026, 7, 15), sent=1)
    assert sms[date(2026, 7, 14)] == DayCounts(date(2026, 7, 14), sent=1, delivered=1)
    assert sms[date(2026, 7, 10)] == DayCounts(date(2026, 7, 10), failed=3)
    assert sum(d.sent + d.failed for d in days[Channel.SMS]) == 5
    assert [(d.day, d.sent) for d in days[Channel.EMAIL] if d.sent] == [(date(2026, 7, 2), 1)]


async def test_channel_health_counts_the_last_day_and_week_and_hides_personal_details(
    app: App,
) -> None:
    await _attempts(
        app,
        (Channel.SMS, NOW - timedelta(hours=2), ACCEPTED, {}),
        (
            Channel.SMS,
            NOW - timedelta(hours=3),
            AttemptOutcome.PERMANENT_FAILURE,
            {"error": "refused +44 7700 900123 and ana@example.org"},
        ),
        (Channel.SMS, NOW - timedelta(days=3), AttemptOutcome.TRANSIENT_FAILURE, {"error": "old"}),
        (Channel.EMAIL, NOW - timedelta(days=10), ACCEPTED, {}),
    )
    modes = [
        ChannelMode(Channel.SMS, True, "sending through Twilio"),
        ChannelMode(Channel.EMAIL, False, "written to a folder"),
        ChannelMode(Channel.LETTER, True, "PDF letters"),
    ]
    async with app.sessions() as session:
        health = {h.channel: h for h in await channel_health(session, NOW, modes)}
    sms, email, letter = health[Channel.SMS], health[Channel.EMAIL], health[Channel.LETTER]
    assert sms.live and not email.live
    assert sms.last_day == Counts(sent=1, failed=1) and sms.last_day.error_percent == "50%"
    assert sms.last_week == Counts(sent=1, failed=2)
    assert sms.last_week.error_percent == "66.7%"
    assert sms.last_success == NOW - timedelta(hours=2)
    assert sms.last_error == "refused [number hidden] and [email hidden]"
    assert sms.last_error_at == NOW - timedelta(hours=3)
    assert email.last_success == NOW - timedelta(days=10)
    assert email.last_week == Counts() and email.last_week.error_percent == "No tries"
    assert (letter.last_success, letter.last_error) == (None, "")


def test_error_rates_read_as_whole_percentages_where_they_can() -> None:
    assert Counts(sent=3, failed=0).error_percent == "0%"
    assert Counts(sent=0, failed=2).error_percent == "100%"
    assert Counts(sent=7, failed=1).error_percent == "12.5%"
