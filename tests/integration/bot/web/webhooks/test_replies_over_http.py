"""Replies as an expert sends them and staff feel them: real HTTP into the running service,
answers and alerts out through the real SDKs to the loopback fakes."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.services.experts.telegram_links import create_link
from bot.services.inbox.replies import acknowledge
from bot.services.staff.accounts import set_alert_route, set_cover
from store.enums import Channel, InvitationAnswer, MessageStatus, Purpose, Role, TaskKind
from store.models import ContactPoint, Expert, Invitation, Message, Reply, Staff, StaffAlert
from tests.builders import add_engagement, add_expert, add_staff, all_tasks, outbox, say_yes
from tests.live import Live

ANA = "+447123456789"  # the builders' expert, "07123 456789"
SAM_PHONE = "+447123000111"
COVER_PHONE = "+447123000222"


async def ana_with_a_pre_brief_sent(live: Live) -> Expert:
    """Ana, invited with Ben and not yet answered; her pre-brief (which asks) went by text."""
    app = live.app
    async with app.sessions.begin() as session:
        expert = await add_expert(app, session)
        ben = await add_expert(app, session, preferred_name="Ben", phone="07123 456780")
        await add_engagement(app, session, experts=[expert, ben])
    pre_brief = (await outbox(app, purpose=Purpose.PRE_BRIEF, expert_id=expert.id))[0]
    live.clock.set(pre_brief.due_at)
    await app.dispatcher().run_until_idle()
    assert (await outbox(app, id=pre_brief.id))[0].status is MessageStatus.SENT
    assert "Reply YES, NO or MAYBE" in live.twilio.ledger[-1].body
    return expert


async def _answer(app: object, expert_id: int) -> InvitationAnswer:
    async with app.sessions() as session:  # type: ignore[attr-defined]
        return (
            await session.scalar(select(Invitation.answer).where(Invitation.expert_id == expert_id))
        ) or InvitationAnswer.PENDING


# --- SMS ----------------------------------------------------------------------------------


async def test_a_texted_yes_answers_the_invitation_and_thanks_them_by_name(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    response = await live.text(ANA, "Yeah 👍")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "Sam" in response.text and "Ana" in response.text  # from the link worker, by name
    assert await _answer(live.app, ana.id) is InvitationAnswer.YES
    [reply] = await live.replies()
    assert (reply.expert_id, reply.intent) == (ana.id, "yes")
    assert reply.in_reply_to_id is not None


async def test_cant_make_it_is_a_no_and_stops_the_rest_of_the_plan(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    await live.text(ANA, "sorry can't make it")
    assert await _answer(live.app, ana.id) is InvitationAnswer.NO
    waiting = [
        m for m in await outbox(live.app, expert_id=ana.id) if m.status is MessageStatus.PENDING
    ]
    assert waiting == []


async def test_a_forged_signature_is_refused_and_nothing_is_kept(live: Live) -> None:
    await ana_with_a_pre_brief_sent(live)
    response = await live.client.post(
        "/webhooks/twilio/sms",
        data={"MessageSid": live.next_sid(), "From": ANA, "Body": "yes"},
        headers={"X-Twilio-Signature": "bm90IGEgcmVhbCBzaWduYXR1cmU="},
    )
    assert response.status_code == 403
    unsigned = await live.client.post("/webhooks/twilio/sms", data={"From": ANA, "Body": "yes"})
    assert unsigned.status_code == 403
    assert await live.replies() == []


@pytest.mark.db_contract
async def test_the_same_text_delivered_twice_is_handled_once(live: Live) -> None:
    await ana_with_a_pre_brief_sent(live)
    sid = live.next_sid()
    first = await live.text(ANA, "call me", sid=sid)
    again = await live.text(ANA, "call me", sid=sid)
    assert "<Message>" in first.text
    assert "<Message>" not in again.text  # they hear from us once
    assert len(await live.replies()) == 1
    assert [t.kind for t in await all_tasks(live.app)].count(TaskKind.CALL_BACK) == 1


async def test_stop_is_honoured_at_once_and_the_link_worker_is_told(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    response = await live.text(ANA, "STOP")
    assert "won't get any more messages" in response.text
    async with live.app.sessions() as session:
        point = await session.scalar(
            select(ContactPoint).where(
                ContactPoint.expert_id == ana.id, ContactPoint.channel == Channel.SMS
            )
        )
    assert point is not None and point.opted_out_at is not None
    assert TaskKind.CONTACT_CHANGED in [t.kind for t in await all_tasks(live.app)]
    # START turns texts back on.
    await live.text(ANA, "start")
    async with live.app.sessions() as session:
        point = await session.get(ContactPoint, point.id, populate_existing=True)
    assert point is not None and point.opted_out_at is None


async def test_twilios_own_stop_handling_is_respected_without_a_second_answer(live: Live) -> None:
    await ana_with_a_pre_brief_sent(live)
    response = await live.text(ANA, "End", OptOutType="STOP")
    assert "<Message>" not in response.text  # Twilio has already answered them
    [reply] = await live.replies()
    assert reply.intent == "stop"


async def test_pause_for_two_weeks_pauses_them_and_says_until_when(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    response = await live.text(ANA, "pause 2 weeks")
    assert "paused messages until" in response.text
    async with live.app.sessions() as session:
        expert = await session.get(Expert, ana.id)
    assert expert is not None and expert.paused_until is not None


async def test_free_text_goes_to_the_link_worker_with_one_line_back_a_day(live: Live) -> None:
    await ana_with_a_pre_brief_sent(live)
    first = await live.text(ANA, "Is there parking near the venue?")
    second = await live.text(ANA, "Also can I bring my daughter")
    # Ana's texts are discreet: whoever holds her phone does not learn Sam's name.
    assert "read this myself.<" in first.text and "Sam" not in first.text
    assert "<Message>" not in second.text
    tasks = [t for t in await all_tasks(live.app) if t.kind is TaskKind.READ_REPLY]
    assert len(tasks) == 1  # two texts, one task to read them
    assert all(r.needs_person and r.task_id == tasks[0].id for r in await live.replies())


async def test_a_stranger_gets_one_neutral_line_that_reveals_nothing(live: Live) -> None:
    await ana_with_a_pre_brief_sent(live)
    first = await live.text("+447700900999", "hello who is this")
    again = await live.text("+447700900999", "hello?")
    text = first.text.lower()
    assert "<message>" in text and "sam" not in text and "linkline" not in text
    assert "<Message>" not in again.text
    replies = await live.replies()
    assert all(r.expert_id is None and r.intent == "stranger" for r in replies)


# --- the urgent path ------------------------------------------------------------------------


async def _alerts_by_text(live: Live, staff_id: int, phone: str) -> None:
    async with live.app.sessions.begin() as session:
        staff = await session.get(Staff, staff_id)
        assert staff is not None
        await set_alert_route(session, staff, Channel.SMS, phone, now=live.clock.now(), actor="t")


async def _texts_to(live: Live, phone: str, within: float = 60) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [sms.body for sms in live.twilio.ledger if sms.to == phone]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def test_a_worrying_reply_reaches_the_link_worker_within_a_minute(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    await _alerts_by_text(live, ana.link_worker_id, SAM_PHONE)
    started = time.monotonic()
    response = await live.text(ANA, "honestly I can't go on like this")
    # Discreet texts: the numbers and their hours, never a service's name.
    assert "Samaritans" not in response.text and "116 123" in response.text
    assert "Someone to talk to, free, 24 hours: 116 123" in response.text
    assert "999" in response.text
    alerts = await _texts_to(live, SAM_PHONE)
    assert alerts, "no alert reached the link worker within a minute"
    assert time.monotonic() - started < 60
    assert "Ana" not in alerts[0] and "go on" not in alerts[0]  # no names, no words
    [task] = [t for t in await all_tasks(live.app) if t.kind is TaskKind.URGENT_REPLY]
    assert task.urgent and task.assignee_id == ana.link_worker_id
    # No more automated messages until a person has looked: not even an answer.
    quiet = await live.text(ANA, "yes")
    assert "<Message>" not in quiet.text
    async with live.app.sessions() as session:
        assert (await session.get(Expert, ana.id)).held_since is not None  # type: ignore[union-attr]


async def test_a_low_check_in_score_is_urgent_and_the_cover_is_alerted_when_away(
    live: Live,
) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    app = live.app
    message = (await outbox(app, purpose=Purpose.PRE_BRIEF))[0]
    async with app.sessions.begin() as session:
        cover = await add_staff(session, "Jo Reid", "jo@example.org", now=app.clock.now())
        sam = await session.get(Staff, ana.link_worker_id)
        today = app.clock.now().date()
        await set_cover(
            session, sam, cover, today, today + timedelta(days=3), now=app.clock.now(), actor="t"
        )
        await set_alert_route(
            session, cover, Channel.SMS, COVER_PHONE, now=app.clock.now(), actor="t"
        )
        # A check-in was the last thing that asked.
        check_in = await session.get(Message, message.id)
        assert check_in is not None
        check_in.purpose = Purpose.CHECK_IN
    response = await live.text(ANA, "2")
    assert "Jo" in response.text  # signed by the cover, who is the one looking
    assert await _texts_to(live, COVER_PHONE), "the cover was not alerted"
    [reply] = await live.replies()
    assert (reply.score, reply.urgent) == (2, True)


async def test_messages_wait_on_hold_and_go_again_once_a_person_has_looked(live: Live) -> None:
    ana = await ana_with_a_pre_brief_sent(live)
    await live.text(ANA, "he hit me again")
    reminder = (await outbox(live.app, purpose=Purpose.REMINDER))[0]
    live.clock.set(reminder.due_at)
    await live.app.dispatcher().run_until_idle()
    held = (await outbox(live.app, id=reminder.id))[0]
    assert held.status is MessageStatus.PENDING and "hold" in (held.status_reason or "")
    async with live.app.sessions.begin() as session:
        reply = await session.scalar(select(Reply).where(Reply.urgent.is_(True)))
        sam = await session.get(Staff, ana.link_worker_id)
        assert reply is not None and await acknowledge(session, reply, sam, now=live.clock.now())
    live.clock.advance(timedelta(hours=1, minutes=1))
    await live.app.dispatcher().run_until_idle()
    assert (await outbox(live.app, id=reminder.id))[0].status is MessageStatus.SENT


# --- Telegram -------------------------------------------------------------------------------


async def test_telegram_needs_the_secret_token(live: Live) -> None:
    assert (await live.chat(5551, "hello", secret=None)).status_code == 403
    assert (
        await live.chat(5551, "hello", secret="wrong-secret-of-enough-length")
    ).status_code == 403
    assert await live.replies() == []
    assert (await live.chat(5551, "hello")).status_code == 200
    assert len(await live.replies()) == 1
    assert "this chat doesn't recognise you" in live.telegram.last_sent("5551").text


async def test_a_link_code_links_the_chat_once_and_buttons_answer_a_check_in(
    live: Live,
) -> None:
    app = live.app
    async with app.sessions.begin() as session:
        ana = await add_expert(app, session)
        sam = await session.get(Staff, ana.link_worker_id)
        code = await create_link(
            session, ana, sam, cipher=app.cipher, now=app.clock.now(), hours=72
        )
    assert (await live.chat(42, f"/start {code.code}")).status_code == 200
    assert "this chat is now linked" in live.telegram.last_sent("42").text
    [told] = [t for t in await all_tasks(app) if t.kind is TaskKind.CONTACT_CHANGED]
    assert told.assignee_id == ana.link_worker_id and "What they agree to" in (told.details or "")
    # The same code again, from another chat: refused, nothing linked.
    await live.chat(43, f"/start {code.code}")
    assert "doesn't work" in live.telegram.last_sent("43").text
    async with app.sessions() as session:
        linked = await session.scalar(
            select(func.count(ContactPoint.id)).where(ContactPoint.channel == Channel.TELEGRAM)
        )
    assert linked == 1
    assert code.code not in " ".join(r.body for r in await live.replies())  # never kept
    # A tap on a check-in button is an answer, once.
    async with app.sessions.begin() as session:
        engagement = await add_engagement(app, session, experts=[ana])
        message = Message(
            expert_id=ana.id,
            engagement_id=engagement.id,
            purpose=Purpose.CHECK_IN,
            idempotency_key="check-in-test",
            due_at=app.clock.now(),
            next_attempt_at=app.clock.now(),
            status=MessageStatus.SENT,
            sent_at=app.clock.now(),
            created_at=app.clock.now(),
            updated_at=app.clock.now(),
        )
        session.add(message)
        await session.flush()
        message_id = message.id
    assert (await live.tap(42, f"a:{message_id}:4")).status_code == 200
    reply = (await live.replies())[-1]
    assert (reply.intent, reply.score, reply.in_reply_to_id) == ("score", 4, message_id)
    assert live.telegram.callback_answers  # the spinner stops on their phone


@pytest.mark.db_contract
async def test_a_repeated_telegram_update_is_handled_once(live: Live) -> None:
    await live.chat(77, "hello", update_id=9)
    await live.chat(77, "hello", update_id=9)
    assert len(await live.replies()) == 1


# --- escalation -----------------------------------------------------------------------------


async def test_a_reply_nobody_reads_for_a_working_day_alerts_an_administrator(
    live: Live,
) -> None:
    app = live.app
    await ana_with_a_pre_brief_sent(live)
    async with app.sessions.begin() as session:
        admin = await add_staff(
            session, "Ali Admin", "ali@example.org", Role.ADMIN, app.clock.now()
        )
    await live.text(ANA, "can we talk about the expenses")
    escalation = app.reply_escalation()
    assert await escalation.run() == 0
    live.clock.advance(timedelta(days=4))  # past a working day, whatever day it was
    assert await escalation.run() == 1
    assert await escalation.run() == 0  # once
    async with app.sessions() as session:
        alerts = list(await session.scalars(select(StaffAlert)))
    assert [(a.staff_id, a.reason) for a in alerts] == [(admin.id, "overdue_reply")]


async def test_a_check_in_by_telegram_has_buttons_that_answer_it(live: Live) -> None:
    app = live.app
    async with app.sessions.begin() as session:
        ben = await add_expert(
            app,
            session,
            preferred_name="Ben",
            preferred_channel="telegram",
            phone=None,
            telegram_chat_id="4242",
            consent={"telegram": {"allowed": True}},
        )
        engagement = await add_engagement(app, session, experts=[ben])
        await say_yes(app, session, engagement, ben)
    check_in = (await outbox(app, purpose=Purpose.CHECK_IN))[0]
    live.clock.set(check_in.due_at)
    await app.dispatcher().run_until_idle()
    sent = live.telegram.last_sent("4242")
    labels = [label for row in sent.button_rows() for label, _ in row]
    assert labels == ["1", "2", "3", "4", "5", "Pass"]
    four = next(data for row in sent.button_rows() for label, data in row if label == "4")
    assert (await live.tap(4242, four, message_id=sent.message_id)).status_code == 200
    reply = (await live.replies())[-1]
    assert (reply.intent, reply.score, reply.in_reply_to_id) == ("score", 4, check_in.id)
    assert "Thanks for letting me know, Ben" in live.telegram.last_sent("4242").text
    assert live.telegram.current_markup("4242", sent.message_id) is None  # one tap, one answer


async def test_a_worrying_reply_nobody_acknowledges_in_an_hour_goes_to_the_cover(
    live: Live,
) -> None:
    app = live.app
    ana = await ana_with_a_pre_brief_sent(live)
    async with app.sessions.begin() as session:
        jo = await add_staff(session, "Jo Reid", "jo@example.org", now=app.clock.now())
        sam = await session.get(Staff, ana.link_worker_id)
        assert sam is not None
        sam.cover_id = jo.id  # Jo covers when needed; Sam is at work today
    await live.text(ANA, "I'm scared to go home")
    escalation = app.reply_escalation()
    live.clock.advance(timedelta(minutes=59))
    assert await escalation.run() == 0
    live.clock.advance(timedelta(minutes=2))
    assert await escalation.run() == 1
    async with app.sessions() as session:
        alerts = [(a.staff_id, a.reason) for a in await session.scalars(select(StaffAlert))]
    assert (sam.id, "urgent_reply") in alerts and (jo.id, "overdue_reply") in alerts


async def test_a_number_two_experts_share_is_left_to_a_person(live: Live) -> None:
    app = live.app
    async with app.sessions.begin() as session:
        await add_expert(app, session, preferred_name="Ana", phone="07123 456777")
        await add_expert(app, session, preferred_name="Bea", phone="07123 456777")
    response = await live.text("+447123456777", "is the meeting still on")
    assert "<Message>" not in response.text  # neither is told the number is unknown
    [reply] = await live.replies()
    assert (reply.expert_id, reply.intent, reply.needs_person) == (None, "shared_number", True)


@pytest.mark.db_contract
async def test_everyone_saying_yes_at_once_is_heard_and_recorded(live: Live) -> None:
    """Twenty replies re-planning one engagement at the same moment collide on PostgreSQL;
    each is handled again rather than dropped, so every yes counts and is answered."""
    app = live.app
    numbers = [f"07123 4567{n:02d}" for n in range(20)]
    async with app.sessions.begin() as session:
        people = [
            await add_expert(app, session, preferred_name=f"P{n}", phone=number)
            for n, number in enumerate(numbers)
        ]
        await add_engagement(app, session, experts=people)
    live.clock.set((await outbox(app, purpose=Purpose.PRE_BRIEF))[0].due_at)
    await app.dispatcher().run_until_idle()
    responses = await asyncio.gather(
        *(live.text("+44" + n.replace(" ", "")[1:], "yes") for n in numbers)
    )
    assert all(r.status_code == 200 and "<Message>" in r.text for r in responses)
    assert len(await live.replies()) == len(numbers)
    for person in people:
        assert await _answer(app, person.id) is InvitationAnswer.YES
