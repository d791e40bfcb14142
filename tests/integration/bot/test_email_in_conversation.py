"""An email reply is part of the conversation: heard from a real Dovecot mailbox, it sits
in time order beside text and Telegram replies on the conversation page and in
`linkline experts thread`, and a member of staff answers it from the reply page by email,
through the gate, with the Reply-To token that brings the next answer back to them."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import App
from scheduling.clock import SimulatedClock
from store.enums import Channel, MessageStatus, Purpose
from store.models import Expert, Message, Reply
from tests.cli_runner import Invoke
from tests.conftest import TEST_KEY
from tests.dovecot import Dovecot
from tests.fakes.smtp import FakeSMTPServer
from tests.integration.bot.services.listening.test_mail_replies import (  # noqa: F401
    ANA,
    add_ana,
    email,
    mail_app,
    poller,
    smtp,
)
from tests.staff_client import add_account, signed_in

SAM = "sam@example.org"


async def _reply(app: App, expert: Expert, channel: Channel, body: str) -> None:
    async with app.sessions.begin() as session:
        session.add(
            Reply(expert_id=expert.id, channel=channel, body=body, received_at=app.clock.now())
        )


def _in_order(text: str, *words: str) -> bool:
    places = [text.find(w) for w in words]
    return -1 not in places and places == sorted(places)


async def test_an_email_reply_is_in_the_conversation_and_answered_by_email(
    mail_app: App,  # noqa: F811
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,  # noqa: F811
    clock: SimulatedClock,
    cli: Invoke,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, user = dovecot
    ana = await add_ana(mail_app)
    async with mail_app.sessions.begin() as session:
        await add_account(mail_app, session)
    await _reply(mail_app, ana, Channel.SMS, "First by text")
    clock.advance(timedelta(hours=1))
    await _reply(mail_app, ana, Channel.TELEGRAM, "Then on Telegram")
    clock.advance(timedelta(hours=1))
    server.append(user, email("Now by email, thank you"))
    assert (await poller(mail_app).poll_once()).heard == 1
    clock.advance(timedelta(hours=1))
    await _reply(mail_app, ana, Channel.SMS, "Last by text again")
    async with mail_app.sessions() as session:
        heard = await session.scalar(select(Reply).where(Reply.channel == Channel.EMAIL))
    assert heard is not None and heard.expert_id == ana.id
    order = ("First by text", "Then on Telegram", "Now by email", "Last by text again")

    async with signed_in(mail_app, SAM) as sam:
        page = (await sam.get(f"/experts/{ana.id}/conversation")).text
        assert _in_order(page, *order), page
        assert _in_order(page, "Text message", "Telegram", "Email")
        shown = (await sam.get(f"/replies/{heard.id}")).text
        assert f"/experts/{ana.id}/write?reply={heard.id}" in shown
        form = (await sam.get(f"/experts/{ana.id}/write?reply={heard.id}")).text
        assert "Now by email" in form
        words = "Thank you, Ana. It was good to hear from you. Sam"
        answer = {"text": words, "channel": "email", "reply": str(heard.id)}
        preview = await sam.post(f"/experts/{ana.id}/write", answer)
        assert preview.status_code == 200, preview.text
        token = re.search(r'name="token"[^>]*value="([0-9a-f]+)"', preview.text)
        assert token is not None, preview.text
        sent = await sam.post(f"/experts/{ana.id}/write/send", {**answer, "token": token[1]})
        assert sent.status_code == 303, sent.text

    async with mail_app.sessions() as session:
        written = await session.scalar(select(Message).where(Message.purpose == Purpose.WRITTEN))
    assert written is not None and written.channel is Channel.EMAIL
    clock.set(max(clock.now(), written.next_attempt_at))
    await mail_app.dispatcher().run_until_idle()
    async with mail_app.sessions() as session:
        went = await session.get(Message, written.id)
    assert went is not None and went.status is MessageStatus.SENT
    [ours] = [d for d in smtp.deliveries() if words in d.message.get_body(("plain",)).get_content()]
    assert ours.rcpt_tos == (ANA,)
    reply_to = str(ours.message["Reply-To"])
    assert reply_to.startswith("replies+") and reply_to.endswith("@org.test")

    # Her answer to it, even from another address, comes back to her conversation.
    clock.advance(timedelta(hours=1))
    server.append(
        user,
        email("Thanks Sam", sender="ana.work@example.net", message_id="<r2@example.net>").replace(
            b"To: replies@org.test", f"To: {reply_to}".encode()
        ),
    )
    assert (await poller(mail_app).poll_once()).heard == 1

    # The command line reads the same conversation, in the same order.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LINKLINE_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("LINKLINE_DATA_DIR", str(tmp_path / "var"))
    thread = await asyncio.to_thread(cli, "experts", "thread", str(ana.id))
    assert thread.exit_code == 0, thread.output
    out = thread.output
    assert _in_order(out, *order, words, "Thanks Sam"), out
    assert "Email, from them: Their reply, Ana" in out
    assert "Email, to them: Written by staff, Sam Taylor" in out
