"""A copied database file must not reveal who the experts are or how to reach them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.bootstrap import App
from bot.services.engagements import lifecycle as engagement_service
from bot.services.listening import Inbound, receive
from scheduling.clock import SimulatedClock
from store.enums import Channel, InvitationAnswer
from store.models import Message
from tests.builders import add_engagement, add_expert


async def test_the_sqlite_file_holds_no_names_phone_numbers_emails_or_addresses(
    app: App, clock: SimulatedClock
) -> None:
    if app.engine.dialect.name != "sqlite":
        return
    async with app.sessions.begin() as session:
        expert = await add_expert(
            app,
            session,
            preferred_name="Morag Zebedee",
            phone="07123 456789",
            email="morag.zebedee@example.net",
            postal_address="1 Quillan Wynd; Perth PH1 1ZZ",
            payment_preference="cash via the Yarrow credit union",
            access_needs="easy_read",
            fallback_channels="email;letter",
            consent={"sms": {"allowed": True}, "email": {"allowed": True}},
        )
        engagement = await add_engagement(app, session, experts=[expert])
        await engagement_service.record_answer(
            session,
            engagement,
            expert.id,
            InvitationAnswer.YES,
            app.offsets,
            support_needs="needs a Xylophonist support worker",
            now=clock.now(),
            actor="test",
        )
    clock.set(await _first_due(app))
    await app.dispatcher().run_until_idle()  # rendered message bodies are stored too
    replies = (("07123 456789", "Quokka troubles again"), ("07700 900123", "Wombat?"))
    for n, (sender, text) in enumerate(replies):
        async with app.sessions.begin() as session:  # replies, and a stranger's number
            await receive(
                session,
                Inbound(Channel.SMS, f"twilio:SM{n:032d}", sender, text, clock.now()),
                app.listening(),
            )
    await app.engine.dispose()
    folder = Path(str(app.engine.url.database)).parent
    raw = b"".join(p.read_bytes() for p in folder.glob("linkline.db*"))
    assert b"pre_brief" in raw and b"sms" in raw  # the file really holds the outbox
    for secret in [
        b"Morag",
        b"Zebedee",
        b"7123456789",
        b"447123456789",
        b"morag.zebedee",
        b"Quillan",
        b"Yarrow",  # how they are paid (M-4: was stored in plain text)
        b"easy_read",  # an access need says something about health
        b"Xylophonist",
        b"Quokka",
        b"Wombat",
        b"7700900123",
    ]:
        assert secret not in raw, secret


async def _first_due(app: App) -> datetime:
    async with app.sessions() as session:
        return await session.scalar(select(func.min(Message.due_at)))
