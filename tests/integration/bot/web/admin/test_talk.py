"""Writing to an expert through the pages, and reading the conversation: a preview that
says how, when and what a lock screen shows, then one message through the gate; refusals
in sentences that save nothing; staff notes kept apart from what the person saw."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from bot.bootstrap import App
from store.enums import Channel, MessageStatus, Purpose, Role, TaskKind, TaskStatus
from store.models import AuditEvent, DeliveryAttempt, Expert, Message, Reply, StaffNote, Task
from tests.builders import add_expert
from tests.integration.bot.web.admin.test_replies import text_in
from tests.staff_client import StaffClient, add_account, signed_in

SAM, JO, ADA = "sam@example.org", "jo@example.org", "ada@example.org"
_TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


async def _team(app: App, **expert: object) -> Expert:
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Jo Brown", email=JO)
        await add_account(app, session, name="Ada Admin", email=ADA, role=Role.ADMIN)
        return await add_expert(app, session, ref="EX-1", **expert)


async def _written(app: App) -> list[Message]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(Message).where(Message.purpose == Purpose.WRITTEN).order_by(Message.id)
        )
        return list(rows)


def _words(page: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


async def _preview(client: StaffClient, expert_id: int, **form: str) -> httpx.Response:
    return await client.post(f"/experts/{expert_id}/write", {"channel": "", "reply": "", **form})


def _token(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found, "no send form on the preview"
    return found.group(1)


async def test_from_their_page_a_preview_then_one_message_through_the_gate(app: App) -> None:
    ana = await _team(app)
    async with signed_in(app, SAM) as sam:
        profile = await sam.get(f"/experts/{ana.id}")
        assert f"/experts/{ana.id}/write" in profile.text
        assert f"/experts/{ana.id}/conversation" in profile.text
        form = await sam.get(f"/experts/{ana.id}/write")
        assert form.status_code == 200 and "Your message" in form.text
        # 8am: before their safe times open at 9.
        shown = await _preview(sam, ana.id, text="Hi Ana, it's Sam. Thinking of you today.")
        assert shown.status_code == 200, shown.text
        words = _words(shown)
        assert "Check your message before it goes" in words
        assert "Text message is the way they prefer." in words
        assert "On a lock screen Hi Ana, it's Sam. Thinking of you today." in words
        assert "1 text message (40 characters)" in words
        assert "Words that must not show No such words found" in words
        assert "wait for their safe times and go on Monday 12 January at 9am" in words
        assert await _written(app) == []  # a preview saves nothing
        token = _token(shown)
        fields = {"text": "Hi Ana, it's Sam. Thinking of you today.", "channel": "sms"}
        sent = await sam.post(f"/experts/{ana.id}/write/send", {**fields, "token": token})
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/experts/{ana.id}/conversation"
        again = await sam.post(f"/experts/{ana.id}/write/send", {**fields, "token": token})
        assert again.status_code == 303  # a second click sends nothing more
    [message] = await _written(app)
    assert message.channel is Channel.SMS and message.status is MessageStatus.PENDING

    app.clock.advance(timedelta(hours=1, minutes=5))  # type: ignore[attr-defined]
    assert await app.dispatcher().run_until_idle() == 1
    async with app.sessions() as session:
        stored = await session.get(Message, message.id)
        attempts = list(
            await session.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.message_id == message.id)
            )
        )
    assert stored is not None and stored.status is MessageStatus.SENT
    assert stored.body == "Hi Ana, it's Sam. Thinking of you today."
    assert [a.channel for a in attempts] == [Channel.SMS]
    async with signed_in(app, SAM) as sam:
        thread = _words(await sam.get(f"/experts/{ana.id}/conversation"))
    assert "To them · Text message · Written by staff · Sam Taylor Sent" in thread
    assert "Hi Ana, it's Sam. Thinking of you today." in thread
    assert "None" not in thread


async def test_from_a_reply_the_answer_goes_the_way_they_wrote(app: App) -> None:
    ana = await _team(app)
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]  # 11am
    reply_id = await text_in(app, "Can we talk about the next meeting?")
    async with app.sessions() as session:
        reading = await session.scalar(select(Task).where(Task.kind == TaskKind.READ_REPLY))
    assert reading is not None and reading.status is TaskStatus.OPEN
    async with signed_in(app, SAM) as sam:
        reply_page = await sam.get(f"/replies/{reply_id}")
        assert f"/experts/{ana.id}/write?reply={reply_id}" in reply_page.text
        form = await sam.get(f"/experts/{ana.id}/write?reply={reply_id}")
        assert "Can we talk about the next meeting?" in form.text
        shown = await _preview(
            sam, ana.id, text="Of course. I'll ring you at 2.", reply=str(reply_id)
        )
        words = _words(shown)
        assert "They wrote to us by text message, so the answer goes the same way." in words
        assert "It will go straight away" in words
        sent = await sam.post(
            f"/experts/{ana.id}/write/send",
            {"text": "Of course. I'll ring you at 2.", "channel": "sms", "reply": str(reply_id),
             "token": _token(shown)},
        )  # fmt: skip
        assert sent.status_code == 303
        thread = _words(await sam.get(f"/experts/{ana.id}/conversation"))
    assert thread.index("Can we talk about the next meeting?") < thread.index("Of course.")
    async with app.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "message.written")
        )
    assert event is not None and event.data["reply_id"] == reply_id
    async with app.sessions() as session:
        answered = await session.get(Reply, reply_id)
    assert answered is not None and answered.acknowledged_at is not None  # nobody is chased
    assert "Of course" not in str(event.data)  # the audit trail never keeps the words
    async with app.sessions() as session:
        done = await session.get(Task, reading.id)
    # Nobody picks the task up later to answer it a second time.
    assert done is not None and done.status is TaskStatus.DONE
    assert done.outcome == "Sam Taylor answered by text message."


async def test_answering_one_reply_leaves_the_task_open_while_another_waits(app: App) -> None:
    ana = await _team(app)
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    first = await text_in(app, "Can we talk about the next meeting?")
    await text_in(app, "Also, can I bring my sister?")
    async with app.sessions() as session:
        [reading] = list(
            await session.scalars(select(Task).where(Task.kind == TaskKind.READ_REPLY))
        )
    async with signed_in(app, SAM) as sam:
        shown = await _preview(sam, ana.id, text="Yes, let's talk.", reply=str(first))
        sent = await sam.post(
            f"/experts/{ana.id}/write/send",
            {"text": "Yes, let's talk.", "channel": "sms", "reply": str(first),
             "token": _token(shown)},
        )  # fmt: skip
        assert sent.status_code == 303
    async with app.sessions() as session:
        task = await session.get(Task, reading.id)
        replies = list(await session.scalars(select(Reply).where(Reply.task_id == reading.id)))
    assert len(replies) == 2
    assert task is not None and task.status is TaskStatus.OPEN  # the second still waits


async def test_malformed_or_unsafe_words_are_refused_and_nothing_is_saved(app: App) -> None:
    ana = await _team(app)
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    async with signed_in(app, SAM) as sam:
        cases = {
            "   ": "Write the message first: it is empty",
            "x" * 481: "text message can carry at most 480",
            "x" * 2001: "a message can be at most 2000",
        }
        for text, said in cases.items():
            page = await _preview(sam, ana.id, text=text)
            assert page.status_code == 400 and said in _words(page), said
        email = await _preview(sam, ana.id, text="Hello", channel="email")
        assert email.status_code == 400 and "Email can't be used for them" in _words(email)
        odd = await _preview(sam, ana.id, text="Hello", channel="pigeon")
        assert odd.status_code == 400 and "is not a way we write" in _words(odd)
        # A blocked word: the preview says which, and offers no Send button.
        blocked = await _preview(sam, ana.id, text="See you at the survivors group")
        assert blocked.status_code == 200
        assert "\u201csurvivor\u201d" in blocked.text and "Send it" not in blocked.text
        forced = await sam.post(
            f"/experts/{ana.id}/write/send",
            {"text": "See you at the survivors group", "channel": "", "reply": "",
             "token": _token(blocked)},
        )  # fmt: skip
        assert forced.status_code == 400
        assert "it contains \u201csurvivor\u201d, which must not appear" in forced.text
        stale = await sam.post(
            f"/experts/{ana.id}/write/send",
            {"text": "Hello", "channel": "", "reply": "", "token": "x!"},
        )
        assert stale.status_code == 400 and "preview the message again" in _words(stale)
        assert (await sam.get(f"/experts/{ana.id}/write?reply=abc")).status_code == 404
        assert (await sam.get(f"/experts/{ana.id}/write?reply=99999999999")).status_code == 404
    async with signed_in(app, JO) as jo:  # not their worker: "not found", as for any record
        assert (await jo.get(f"/experts/{ana.id}/write")).status_code == 404
        assert (await _preview(jo, ana.id, text="Hello")).status_code == 404
    assert await _written(app) == []


async def test_after_a_worrying_reply_nothing_goes_until_a_person_has_looked(app: App) -> None:
    ana = await _team(app)
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    await text_in(app, "I can't cope any more")
    async with signed_in(app, SAM) as sam:
        shown = await _preview(sam, ana.id, text="I'm here. Can I call you?")
    assert "on hold after a worrying reply" in _words(shown)
    assert "Send it" not in shown.text


async def test_staff_notes_are_kept_apart_from_what_they_saw(app: App) -> None:
    ana = await _team(app)
    app.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    await text_in(app, "Thanks for yesterday")
    async with signed_in(app, SAM) as sam:
        empty = await sam.post(f"/experts/{ana.id}/notes", {"note": "  "})
        assert empty.status_code == 400 and "Write the note first" in _words(empty)
        kept = await sam.post(f"/experts/{ana.id}/notes", {"note": "Prefers calls after 4"})
        assert kept.status_code == 303
        thread = _words(await sam.get(f"/experts/{ana.id}/conversation"))
    said = thread.index("What they saw and said")
    notes = thread.index("For staff only: they never see these notes.")
    assert said < thread.index("Thanks for yesterday") < notes
    assert thread.index("Prefers calls after 4") > notes
    async with signed_in(app, JO) as jo:
        assert (await jo.post(f"/experts/{ana.id}/notes", {"note": "x"})).status_code == 404
        assert (await jo.get(f"/experts/{ana.id}/conversation")).status_code == 404
    async with app.sessions() as session:
        assert len(list(await session.scalars(select(StaffNote)))) == 1
