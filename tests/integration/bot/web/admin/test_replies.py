"""The replies inbox as link workers use it: worrying replies first, words only on the
reply's own page, and "I have read this" lifting the hold on automated messages."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from bot.bootstrap import App
from bot.services.listening import Inbound, hear
from bot.services.staff.accounts import find_staff, set_cover
from store.enums import Channel, Role
from store.models import AuditEvent, Expert, Reply
from tests.builders import add_expert
from tests.staff_client import add_account, signed_in

ANA = "+447123456789"  # the builders' expert, "07123 456789"
_refs = itertools.count(1)


async def text_in(app: App, text: str, sender: str = ANA) -> int:
    """A text arriving as the Twilio webhook hands it over; the stored reply's id."""
    heard = await hear(
        app.sessions,
        Inbound(
            channel=Channel.SMS,
            provider_ref=f"twilio:SM{next(_refs):032d}",
            sender=sender,
            text=text,
            received_at=app.clock.now(),
        ),
        app.listening(),
    )
    assert heard.reply_id is not None
    return heard.reply_id


async def team(app: App) -> Expert:
    """Sam (Ana's link worker), Jo (another link worker) and Alex (an administrator)."""
    async with app.sessions.begin() as session:
        await add_account(app, session)
        await add_account(app, session, name="Jo Brown", email="jo@example.org")
        await add_account(
            app, session, name="Alex Admin", email="alex@example.org", role=Role.ADMIN
        )
        return await add_expert(app, session, ref="EX-1")


async def test_a_worrying_reply_is_listed_first_and_marked_without_its_words(app: App) -> None:
    await team(app)
    plain = await text_in(app, "what time does it start")
    app.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    worrying = await text_in(app, "I can't cope any more")
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get("/replies")
    assert page.status_code == 200
    assert page.text.index(f"/replies/{worrying}") < page.text.index(f"/replies/{plain}")
    assert "Urgent" in page.text and "Ana (EX-1)" in page.text
    assert "Worrying: may need someone now" in page.text
    # Neither message's words are on the list: it can be seen over a shoulder.
    assert "cope any more" not in page.text and "what time" not in page.text


async def test_the_reply_page_shows_the_words_and_records_who_looked(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, "I can't cope any more")
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get(f"/replies/{reply_id}")
    assert page.status_code == 200
    assert "I can&#39;t cope any more" in page.text
    assert "116 123" in page.text  # what we answered automatically (discreet: no names)
    assert "Record what I did and close the task" in page.text
    assert '<a class="govuk-link" href="/experts/' in page.text  # a real link to their record
    async with app.sessions() as session:
        viewed = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "reply.viewed", AuditEvent.entity_id == reply_id
            )
        )
    assert viewed is not None and viewed.actor == "sam@example.org"


async def test_reading_the_worrying_reply_lifts_the_hold_and_empties_the_inbox(app: App) -> None:
    expert = await team(app)
    reply_id = await text_in(app, "I can't cope any more")
    async with app.sessions() as session:
        held = await session.get(Expert, expert.id)
        assert held is not None and held.held_since is not None
    async with signed_in(app, "sam@example.org") as sam:
        done = await sam.post(f"/replies/{reply_id}/ack")
        assert (done.status_code, done.headers["location"]) == (303, "/replies")
        inbox = await sam.get("/replies")
        assert "automated messages to them can go again" in inbox.text
        assert f"/replies/{reply_id}" not in inbox.text
        assert "No replies are waiting" in inbox.text
        everything = await sam.get("/replies?show=all")
        assert f"/replies/{reply_id}" in everything.text and "Read by Sam Taylor" in everything.text
        again = await sam.post(f"/replies/{reply_id}/ack")
        assert (
            "already marked this reply as read" in (await sam.get(again.headers["location"])).text
        )
    async with app.sessions() as session:
        expert_now = await session.get(Expert, expert.id)
        reply = await session.get(Reply, reply_id)
    assert expert_now is not None and expert_now.held_since is None
    assert reply is not None and reply.acknowledged_at is not None


async def test_an_overdue_reply_says_so(app: App) -> None:
    await team(app)
    await text_in(app, "I can't cope any more")
    app.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    async with signed_in(app, "sam@example.org") as sam:
        page = await sam.get("/replies")
    assert "Overdue" in page.text and "2 hours" in page.text


async def test_a_link_worker_out_of_scope_finds_nothing(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, "I can't cope any more")
    async with signed_in(app, "jo@example.org") as jo:
        assert "Ana" not in (await jo.get("/replies")).text
        assert (await jo.get(f"/replies/{reply_id}")).status_code == 404
        assert (await jo.post(f"/replies/{reply_id}/ack")).status_code == 404
        assert (await jo.get("/replies/99999999999999999999999")).status_code == 404
    async with app.sessions() as session:
        reply = await session.get(Reply, reply_id)
    assert reply is not None and reply.acknowledged_at is None


async def test_strangers_are_for_administrators_only(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, "who is this", sender="+447700900999")
    async with signed_in(app, "sam@example.org") as sam:
        assert "Unknown number" not in (await sam.get("/replies")).text
        assert (await sam.get(f"/replies/{reply_id}")).status_code == 404
    async with signed_in(app, "alex@example.org") as alex:
        assert "Unknown number" in (await alex.get("/replies")).text
        page = await alex.get(f"/replies/{reply_id}")
        assert page.status_code == 200 and "who is this" in page.text


async def test_the_covering_colleague_sees_replies_while_the_owner_is_away(app: App) -> None:
    await team(app)
    reply_id = await text_in(app, "I can't cope any more")
    async with app.sessions.begin() as session:
        sam, jo = (
            await find_staff(session, "sam@example.org"),
            await find_staff(session, "jo@example.org"),
        )
        assert sam is not None and jo is not None
        await set_cover(
            session, sam, jo, date(2026, 1, 12), date(2026, 1, 16), now=app.clock.now(), actor="t"
        )
    async with signed_in(app, "jo@example.org") as jo_client:
        assert f"/replies/{reply_id}" in (await jo_client.get("/replies")).text
        assert (await jo_client.get(f"/replies/{reply_id}")).status_code == 200
        done = await jo_client.post(f"/replies/{reply_id}/ack")
        assert done.status_code == 303
    async with app.sessions() as session:
        reply = await session.get(Reply, reply_id)
    assert reply is not None and reply.acknowledged_by_id == jo.id
