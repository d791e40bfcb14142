"""Messages that need a person: the list, and trying again or cancelling through the pages.
A message that may have been sent is only sent again once a person has checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from channels.base import OutcomeUnknown, OutgoingMessage, Receipt
from scheduling.people.handoff import hand_to_person
from scheduling.rules.decisions import Finish
from scheduling.sending.outbox import claim_due, load_message
from store.enums import (
    AttemptOutcome,
    Channel,
    MessageStatus,
    Purpose,
    Role,
    TaskKind,
    TaskStatus,
)
from store.models import AuditEvent, DeliveryAttempt, Message
from tests.builders import add_engagement, add_expert, all_tasks, outbox
from tests.staff_client import add_account, signed_in

ADMIN = "alex@example.org"


async def _plan(app: App) -> dict[Purpose, Message]:
    """Ana (EX-1, Sam's) invited to an engagement: four messages waiting."""
    async with app.sessions.begin() as session:
        await add_account(app, session, name="Alex Admin", email=ADMIN, role=Role.ADMIN)
        await add_account(app, session)
        ana = await add_expert(app, session, ref="EX-1")
        await add_engagement(app, session, experts=[ana])
    return {m.purpose: m for m in await outbox(app)}


async def _fail(app: App, message_id: int, error: str = "Twilio refused it (error 21610)") -> None:
    """Every channel failed, as the dispatcher records it: a try, the status, a task."""
    now = app.clock.now()
    async with app.sessions.begin() as session:
        message = await load_message(session, message_id)
        assert message is not None
        session.add(
            DeliveryAttempt(
                message_id=message.id,
                channel=Channel.SMS,
                router_reason="sms: preferred channel",
                outcome=AttemptOutcome.PERMANENT_FAILURE,
                error=error,
                worker="test",
                started_at=now,
                finished_at=now,
            )
        )
        message.channel, message.last_error = Channel.SMS, error
        finish = Finish(MessageStatus.FAILED, "every channel failed", TaskKind.DELIVERY_PROBLEM)
        message.move(MessageStatus.FAILED, finish.reason, now)
        await hand_to_person(session, message, finish, now)


async def _uncertain(app: App, monkeypatch: pytest.MonkeyPatch, message: Message) -> None:
    """The provider never answered: the dispatcher marks it uncertain and opens a task."""
    sms = app.channels[Channel.SMS]

    async def no_answer(outgoing: OutgoingMessage) -> Receipt:
        raise OutcomeUnknown("Twilio did not answer in time")

    with monkeypatch.context() as patch:
        patch.setattr(sms, "send", no_answer)
        app.clock.set(message.due_at)  # type: ignore[attr-defined]
        assert await app.dispatcher().run_until_idle() == 1
    assert (await _get(app, message.id)).status is MessageStatus.UNCERTAIN


async def _get(app: App, message_id: int) -> Message:
    async with app.sessions() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def _events(app: App, action: str) -> list[AuditEvent]:
    async with app.sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


async def test_the_list_shows_possibly_sent_then_failed_then_stuck_messages(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await _plan(app)
    await _uncertain(app, monkeypatch, plan[Purpose.PRE_BRIEF])
    await _fail(app, plan[Purpose.REMINDER].id)
    # The check-in has waited two hours past its time: no worker is running.
    app.clock.set(plan[Purpose.CHECK_IN].due_at + timedelta(hours=2))  # type: ignore[attr-defined]
    async with signed_in(app, ADMIN) as admin:
        page = await admin.get("/admin/attention")
    assert page.status_code == 200
    text = page.text
    order = [text.index(h) for h in ("May have been sent (1)", "Failed (1)", "Stuck (1)")]
    assert order == sorted(order)
    sections = text.split("<h2")
    assert f'/admin/attention/{plan[Purpose.PRE_BRIEF].id}"' in sections[1]
    assert "Check before sending again" in sections[1]
    assert f'/admin/attention/{plan[Purpose.REMINDER].id}"' in sections[2]
    assert "error 21610" in sections[2]
    assert f'/admin/attention/{plan[Purpose.CHECK_IN].id}"' in sections[3]
    assert f'/admin/attention/{plan[Purpose.DE_BRIEF].id}"' not in text  # not due yet
    assert "EX-1" in text and "Ana" not in text


async def test_trying_a_failed_message_again_queues_a_fresh_copy_that_is_sent(app: App) -> None:
    plan = await _plan(app)
    failed = plan[Purpose.PRE_BRIEF]
    app.clock.set(failed.due_at)  # type: ignore[attr-defined]
    await _fail(app, failed.id)
    async with signed_in(app, ADMIN) as admin:
        item = await admin.get(f"/admin/attention/{failed.id}")
        assert item.status_code == 200 and "Try again" in item.text
        assert "I have checked" not in item.text  # it certainly did not go
        done = await admin.post(f"/admin/attention/{failed.id}/retry")
        assert (done.status_code, done.headers["location"]) == (303, "/admin/attention")
        listed = await admin.get("/admin/attention")
        copy = (await outbox(app, idempotency_key=f"{failed.idempotency_key}:again1"))[0]
        assert f"Message {failed.id} will be sent again, as message {copy.id}" in listed.text
        assert f'/admin/attention/{failed.id}"' not in listed.text
        again = await admin.post(f"/admin/attention/{failed.id}/retry")
        assert again.status_code == 400
        assert f"already been sent again, as message {copy.id}" in again.text
    assert (await _get(app, failed.id)).status is MessageStatus.FAILED  # final stays final
    assert copy.status is MessageStatus.PENDING and copy.not_after == failed.not_after
    task = next(t for t in await all_tasks(app) if t.kind is TaskKind.DELIVERY_PROBLEM)
    assert task.status is TaskStatus.DONE and task.outcome and f"message {copy.id}" in task.outcome
    [event] = await _events(app, "message.retried")
    assert (event.actor, event.entity_id, event.data["sent_as"]) == (ADMIN, failed.id, copy.id)
    assert await app.dispatcher().run_until_idle() == 1
    assert (await _get(app, copy.id)).status is MessageStatus.SENT


async def test_a_possibly_sent_message_is_sent_again_only_once_someone_has_checked(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await _plan(app)
    message = plan[Purpose.PRE_BRIEF]
    await _uncertain(app, monkeypatch, message)
    async with signed_in(app, ADMIN) as admin:
        refused = await admin.post(f"/admin/attention/{message.id}/retry")
        assert refused.status_code == 400
        assert 'href="#checked">Tick to confirm you have checked' in refused.text
        assert 'id="checked-error"' in refused.text
        assert (await _get(app, message.id)).status is MessageStatus.UNCERTAIN
        assert len(await outbox(app)) == 4 and await _events(app, "message.retried") == []
        done = await admin.post(f"/admin/attention/{message.id}/retry", {"checked": "yes"})
        assert done.status_code == 303
    original = await _get(app, message.id)
    assert original.status is MessageStatus.HANDED_TO_PERSON
    assert "a person checked it did not arrive" in (original.status_reason or "")
    check = next(t for t in await all_tasks(app) if t.kind is TaskKind.CHECK_POSSIBLE_SEND)
    assert check.status is TaskStatus.DONE
    [event] = await _events(app, "message.retried")
    assert event.data["checked_not_arrived"] is True
    assert await app.dispatcher().run_until_idle() == 1
    [copy] = await outbox(app, idempotency_key=f"{message.idempotency_key}:again1")
    assert copy.status is MessageStatus.SENT, copy.status_reason


async def test_a_message_past_its_deadline_is_not_tried_again(app: App) -> None:
    plan = await _plan(app)
    failed = plan[Purpose.PRE_BRIEF]
    app.clock.set(failed.due_at)  # type: ignore[attr-defined]
    await _fail(app, failed.id)
    assert failed.not_after is not None
    app.clock.set(failed.not_after + timedelta(minutes=1))  # type: ignore[attr-defined]
    async with signed_in(app, ADMIN) as admin:
        refused = await admin.post(f"/admin/attention/{failed.id}/retry")
    assert refused.status_code == 400
    assert "It is too late to send this message" in refused.text
    assert 'id="retry"' in refused.text
    assert len(await outbox(app)) == 4 and await _events(app, "message.retried") == []


async def test_a_stuck_message_is_tried_again_at_once(app: App) -> None:
    plan = await _plan(app)
    stuck = plan[Purpose.PRE_BRIEF]
    app.clock.set(stuck.due_at + timedelta(hours=2))  # type: ignore[attr-defined]
    async with signed_in(app, ADMIN) as admin:
        listed = await admin.get("/admin/attention")
        assert "Stuck (1)" in listed.text
        done = await admin.post(f"/admin/attention/{stuck.id}/retry")
        assert done.status_code == 303
    again = await _get(app, stuck.id)
    assert again.status is MessageStatus.PENDING and again.next_attempt_at == app.clock.now()
    assert len(await _events(app, "message.retried")) == 1
    assert await app.dispatcher().run_until_idle() == 1
    assert (await _get(app, stuck.id)).status is MessageStatus.SENT


async def test_a_message_left_half_sent_by_a_stopped_worker(app: App) -> None:
    plan = await _plan(app)
    first, second = plan[Purpose.PRE_BRIEF], plan[Purpose.REMINDER]
    app.clock.set(second.due_at)  # type: ignore[attr-defined]
    claimed = await claim_due(
        app.sessions, worker="gone", now=app.clock.now(), limit=10, lease=timedelta(minutes=2)
    )
    assert set(claimed) == {first.id, second.id}
    async with app.sessions.begin() as session:  # the worker got as far as the provider call
        session.add(
            DeliveryAttempt(
                message_id=second.id,
                channel=Channel.SMS,
                router_reason="sms",
                outcome=AttemptOutcome.IN_PROGRESS,
                worker="gone",
                started_at=app.clock.now(),
            )
        )
    app.clock.advance(timedelta(minutes=10))  # type: ignore[attr-defined]
    async with signed_in(app, ADMIN) as admin:
        listed = await admin.get("/admin/attention")
        assert "May have been sent (1)" in listed.text and "Stuck (1)" in listed.text
        assert (await admin.post(f"/admin/attention/{first.id}/retry")).status_code == 303
        refused = await admin.post(f"/admin/attention/{second.id}/retry")
        assert refused.status_code == 400 and "Tick to confirm" in refused.text
        checked = await admin.post(f"/admin/attention/{second.id}/retry", {"checked": "yes"})
        assert checked.status_code == 303
    for message_id in (first.id, second.id):
        assert (await _get(app, message_id)).status is MessageStatus.PENDING


async def test_cancelling_needs_a_reason_and_stops_the_message(app: App) -> None:
    plan = await _plan(app)
    waiting = plan[Purpose.REMINDER]
    async with signed_in(app, ADMIN) as admin:
        item = await admin.get(f"/admin/attention/{waiting.id}")
        assert "It does not need anything from you now" in item.text
        assert "Try again</button>" not in item.text.replace("\n", "")
        assert "Why should it not be sent?" in item.text
        refused = await admin.post(f"/admin/attention/{waiting.id}/cancel")
        assert refused.status_code == 400
        assert 'href="#reason">Choose why it should not be sent' in refused.text
        assert 'id="reason-error"' in refused.text
        assert (await _get(app, waiting.id)).status is MessageStatus.PENDING
        done = await admin.post(
            f"/admin/attention/{waiting.id}/cancel", {"reason": "told_another_way"}
        )
        assert done.status_code == 303
        assert f"Message {waiting.id} is cancelled" in (await admin.get("/admin/attention")).text
    cancelled = await _get(app, waiting.id)
    assert cancelled.status is MessageStatus.CANCELLED
    assert "they have been told another way" in (cancelled.status_reason or "")
    [event] = await _events(app, "message.cancelled")
    assert (event.actor, event.entity_id, event.data["reason"]) == (
        ADMIN,
        waiting.id,
        "told_another_way",
    )


async def test_a_sent_or_final_message_cannot_be_cancelled(app: App) -> None:
    plan = await _plan(app)
    sent, failed = plan[Purpose.PRE_BRIEF], plan[Purpose.REMINDER]
    app.clock.set(sent.due_at)  # type: ignore[attr-defined]
    assert await app.dispatcher().run_until_idle() == 1
    await _fail(app, failed.id)
    async with signed_in(app, ADMIN) as admin:
        for message_id, text in (
            (sent.id, "It has already been sent, so it cannot be cancelled."),
            (failed.id, "This message is already &#39;failed&#39;, so there is nothing to cancel."),
        ):
            refused = await admin.post(
                f"/admin/attention/{message_id}/cancel", {"reason": "no_longer_needed"}
            )
            assert refused.status_code == 400
            assert text in refused.text and 'id="cancel"' in refused.text
    assert (await _get(app, sent.id)).status is MessageStatus.SENT
    assert (await _get(app, failed.id)).status is MessageStatus.FAILED
    assert await _events(app, "message.cancelled") == []


async def test_cancelling_a_possibly_sent_message_leaves_the_check_to_a_person(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await _plan(app)
    message = plan[Purpose.PRE_BRIEF]
    await _uncertain(app, monkeypatch, message)
    async with signed_in(app, ADMIN) as admin:
        done = await admin.post(
            f"/admin/attention/{message.id}/cancel", {"reason": "no_longer_needed"}
        )
        assert done.status_code == 303
        assert (
            "The task to check whether it arrived stays open"
            in (await admin.get("/admin/attention")).text
        )
    closed = await _get(app, message.id)
    assert closed.status is MessageStatus.HANDED_TO_PERSON
    check = next(t for t in await all_tasks(app) if t.kind is TaskKind.CHECK_POSSIBLE_SEND)
    assert check.status is TaskStatus.OPEN


async def test_every_attention_page_is_not_found_for_a_link_worker(app: App) -> None:
    plan = await _plan(app)
    failed = plan[Purpose.PRE_BRIEF]
    app.clock.set(failed.due_at)  # type: ignore[attr-defined]
    await _fail(app, failed.id)
    async with signed_in(app, "sam@example.org") as sam:
        for path in ("/admin/attention", f"/admin/attention/{failed.id}"):
            assert (await sam.get(path)).status_code == 404, path
        for action, data in (("retry", {"checked": "yes"}), ("cancel", {"reason": "wrong_person"})):
            page = await sam.post(f"/admin/attention/{failed.id}/{action}", data)
            assert page.status_code == 404 and "Page not found" in page.text
    assert len(await outbox(app)) == 4
    assert await _events(app, "message.retried") == []
    async with signed_in(app, ADMIN) as admin:
        assert (await admin.get("/admin/attention/9999")).status_code == 404
        assert (await admin.post("/admin/attention/9999/retry")).status_code == 404
