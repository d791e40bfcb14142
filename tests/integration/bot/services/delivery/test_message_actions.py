"""What counts as needing a person, and the edges of trying again and cancelling: the
lifecycle is kept, nothing is sent twice without a person's check, and copies are
numbered from the original."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import App
from bot.services.delivery.attention import Need, need_of, needing_attention
from bot.services.delivery.message_actions import ActionRefused, cancel_message, retry_message
from bot.services.staff.access import NotFound
from scheduling.people.tasks import open_task
from store.enums import AttemptOutcome, Channel, MessageStatus, Purpose, TaskKind, TaskStatus
from store.models import DeliveryAttempt, Message
from tests.builders import add_expert

ACTOR = "alex@example.org"
TZ = "Europe/London"  # the organisation's zone in the test settings


async def _message(app: App, session: AsyncSession, key: str, **fields: object) -> Message:
    expert = await add_expert(app, session)
    now = app.clock.now()
    values: dict[str, object] = {
        "due_at": now,
        "next_attempt_at": now,
        "status": MessageStatus.PENDING,
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    message = Message(expert_id=expert.id, purpose=Purpose.PASTORAL, idempotency_key=key, **values)
    session.add(message)
    await session.flush()
    await session.refresh(message, ["attempts_log"])
    return message


def _attempt(message: Message, outcome: AttemptOutcome, at: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(
        message_id=message.id,
        channel=Channel.SMS,
        router_reason="sms",
        outcome=outcome,
        worker="gone",
        started_at=at,
    )


async def test_what_needs_a_person(app: App) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        waiting = await _message(app, session, "a", next_attempt_at=now - timedelta(minutes=59))
        assert need_of(waiting, now) is None
        waiting.next_attempt_at = now - timedelta(minutes=61)
        assert need_of(waiting, now) is Need.STUCK
        waiting.next_attempt_at = now + timedelta(hours=5)  # held for safe hours: not stuck
        assert need_of(waiting, now) is None
        sending = await _message(
            app, session, "b", status=MessageStatus.SENDING, lease_until=now - timedelta(minutes=4)
        )
        assert need_of(sending, now) is None  # the sweeper still has time to settle it
        sending.lease_until = now - timedelta(minutes=6)
        assert need_of(sending, now) is Need.STUCK
        session.add(_attempt(sending, AttemptOutcome.IN_PROGRESS, now - timedelta(minutes=8)))
        await session.flush()
        await session.refresh(sending, ["attempts_log"])
        assert need_of(sending, now) is Need.MAY_HAVE_BEEN_SENT
        for status, need in (
            (MessageStatus.FAILED, Need.FAILED),
            (MessageStatus.UNCERTAIN, Need.MAY_HAVE_BEEN_SENT),
            (MessageStatus.SENT, None),
            (MessageStatus.CANCELLED, None),
        ):
            waiting.status = status
            assert need_of(waiting, now) is need


async def test_failures_leave_the_list_when_old_sent_again_or_dealt_with(app: App) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        recent = await _message(app, session, "recent", status=MessageStatus.FAILED)
        old = await _message(
            app,
            session,
            "old",
            status=MessageStatus.FAILED,
            updated_at=now - timedelta(days=31),
            due_at=now - timedelta(days=32),
        )
        handled = await _message(app, session, "handled", status=MessageStatus.FAILED)
        task = await open_task(
            session,
            kind=TaskKind.DELIVERY_PROBLEM,
            title="A message could not be sent",
            now=now,
            assignee=None,
            message=handled,
        )
        task.status = TaskStatus.DONE  # their link worker phoned instead
    async with app.sessions() as session:
        listed = [a.message.id for a in await needing_attention(session, now)]
    assert listed == [recent.id]
    assert old.id not in listed and handled.id not in listed


async def test_copies_are_numbered_from_the_original(app: App) -> None:
    async with app.sessions.begin() as session:
        first = await _message(app, session, "exp1:pastoral:20260112", status=MessageStatus.FAILED)
    async with app.sessions.begin() as session:
        one = await retry_message(
            session, first.id, checked=False, actor=ACTOR, now=app.clock.now(), tz=TZ
        )
        copy = await session.get(Message, one.message_id)
        assert copy is not None and copy.idempotency_key == "exp1:pastoral:20260112:again1"
        copy.move(MessageStatus.FAILED, "failed again", app.clock.now())
    async with app.sessions.begin() as session:
        two = await retry_message(
            session, one.message_id, checked=False, actor=ACTOR, now=app.clock.now(), tz=TZ
        )
        keys = list(await session.scalars(select(Message.idempotency_key).order_by(Message.id)))
    assert two.copy and keys[-1] == "exp1:pastoral:20260112:again2"


async def test_trying_again_is_refused_when_it_would_be_unsafe_or_pointless(app: App) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        late = await _message(
            app, session, "late", status=MessageStatus.FAILED, due_at=now - timedelta(days=8)
        )
        busy = await _message(
            app, session, "busy", status=MessageStatus.SENDING, lease_until=now + timedelta(1)
        )
        sent = await _message(app, session, "sent", status=MessageStatus.SENT)
    for message_id, field, words in (
        (late.id, "retry", "more than 7 days ago"),
        (busy.id, "retry", "A worker is sending it right now"),
        (sent.id, "retry", "Only a failed, stuck or possibly sent message"),
    ):
        async with app.sessions.begin() as session:
            with pytest.raises(ActionRefused, match=words) as refused:
                await retry_message(session, message_id, checked=True, actor=ACTOR, now=now, tz=TZ)
        assert refused.value.field == field
    async with app.sessions.begin() as session:
        with pytest.raises(ActionRefused, match="A worker is sending it right now"):
            await cancel_message(session, busy.id, reason="no_longer_needed", actor=ACTOR, now=now)
        with pytest.raises(NotFound):
            await retry_message(session, 9999, checked=True, actor=ACTOR, now=now, tz=TZ)


async def test_cancelling_a_half_sent_message_says_it_may_have_gone(app: App) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        message = await _message(
            app,
            session,
            "half",
            status=MessageStatus.SENDING,
            lease_until=now - timedelta(minutes=10),
        )
        session.add(_attempt(message, AttemptOutcome.IN_PROGRESS, now - timedelta(minutes=12)))
    async with app.sessions.begin() as session:
        cancelled = await cancel_message(
            session, message.id, reason="wrong_person", actor=ACTOR, now=now
        )
        assert cancelled.status is MessageStatus.CANCELLED
        assert "so it may have gone" in (cancelled.status_reason or "")
        assert [a.outcome for a in cancelled.attempts_log] == [AttemptOutcome.UNKNOWN]
