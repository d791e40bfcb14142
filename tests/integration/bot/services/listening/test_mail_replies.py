"""Email replies are heard: a real Dovecot mailbox, the real app on a real database, and a
real SMTP server on loopback for what goes back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import App, build_app
from bot.services.listening.mail_poll import MailPoll, PollResult
from channels.base import OutgoingMessage
from channels.mail import EmailChannel
from scheduling.clock import SimulatedClock
from scheduling.job_lock import job_turn
from store.enums import Channel, InvitationAnswer, MessageStatus, Purpose, TaskKind, TaskStatus
from store.models import Expert, Invitation, Message, Reply, Task
from tests.builders import add_engagement, add_expert, outbox
from tests.conftest import _truncate, make_settings
from tests.dovecot import PASSWORD, Dovecot
from tests.fakes.smtp import FakeSMTPServer

ANA = "ana@example.org"


@pytest.fixture
def smtp() -> Iterator[FakeSMTPServer]:
    server = FakeSMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
async def mail_app(
    tmp_path: Path,
    database_url: str,
    clock: SimulatedClock,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> AsyncIterator[App]:
    server, user = dovecot
    settings = make_settings(
        tmp_path,
        database_url,
        imap_url=f"imap://{user}:{PASSWORD}@127.0.0.1:{server.port}/INBOX",
        mail_reply_to="replies@org.test",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="linkline@org.test",
        smtp_starttls=False,
    )
    built = await build_app(settings, clock=clock)
    await _truncate(built)
    try:
        yield built
    finally:
        await built.aclose()


async def add_ana(app: App) -> Expert:
    async with app.sessions.begin() as session:
        return await add_expert(
            app,
            session,
            preferred_channel="email",
            phone=None,
            email=ANA,
            consent={"email": {"allowed": True}},
            consent_confirmed_on=date(2026, 1, 5),
        )


def email(
    body: str, *, sender: str = ANA, message_id: str = "<r1@example.org>", extra: str = ""
) -> bytes:
    head = f"From: Ana <{sender}>\r\nTo: replies@org.test\r\nSubject: Re: hello\r\n"
    if message_id:
        head += f"Message-ID: {message_id}\r\n"
    return (head + extra + "\r\n" + body).encode()


async def mail_in(app: App, dovecot: tuple[Dovecot, str], raw: bytes) -> PollResult:
    """One email into the replies mailbox, then one pass of reading it."""
    server, user = dovecot
    server.append(user, raw)
    return await poller(app).poll_once()


def poller(app: App) -> MailPoll:
    poll = app.mail_poll()
    assert poll is not None
    return poll


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def replies(app: App) -> list[Reply]:
    async with app.sessions() as session:
        return list(await session.scalars(select(Reply).order_by(Reply.id)))


async def test_a_worrying_email_takes_the_urgent_path_and_is_answered_once(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    server, user = dovecot
    ana = await add_ana(mail_app)
    quoted = "\r\n\r\nOn Mon, Sam <replies@org.test> wrote:\r\n> How are you?\r\n"
    result = await mail_in(mail_app, dovecot, email("I feel hopeless today." + quoted))
    assert (result.heard, result.answered) == (1, 1)
    (reply,) = await replies(mail_app)
    assert (reply.expert_id, reply.urgent, reply.channel) == (ana.id, True, Channel.EMAIL)
    assert reply.body == "I feel hopeless today."  # our quoted words are not theirs
    async with mail_app.sessions() as session:
        task = await session.scalar(select(Task).where(Task.id == reply.task_id))
    assert task is not None and task.kind is TaskKind.URGENT_REPLY and task.urgent
    (answer,) = smtp.deliveries()
    assert answer.rcpt_tos == (ANA,)
    assert "If you need someone to talk to now" in _text(answer.message)
    assert answer.message["Reply-To"].startswith("replies")
    assert server.unseen(user) == 0

    # The same message again (delivered twice, or the mailbox read again): no second reply.
    again = await mail_in(mail_app, dovecot, email("I feel hopeless today." + quoted))
    assert (again.heard, again.repeats, again.answered) == (0, 1, 0)
    assert len(await replies(mail_app)) == 1 and len(smtp.deliveries()) == 1


@pytest.mark.parametrize("named_by", ["token", "in_reply_to"])
async def test_a_reply_from_another_address_is_matched_by_the_message_it_answers(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
    named_by: str,
) -> None:
    """An email we sent carries a token in its Reply-To and its Message-ID; a reply from
    the person's work address still reaches their record, and STOP stops email to their
    own address."""
    ana = await add_ana(mail_app)
    channel = mail_app.channels[Channel.EMAIL]
    assert isinstance(channel, EmailChannel)
    ours = channel.build(  # exactly what the gate would hand to the mail server
        OutgoingMessage("pastoral:1", Channel.EMAIL, ANA, "How are you?", subject="Hello"),
        ANA,
        mail_app.clock.now(),
    )
    reply_to = str(ours["Reply-To"])
    await _record_sent(mail_app, ana, str(ours["Message-ID"]))
    if named_by == "token":  # In-Reply-To lost (a new email to the address, or a forward)
        sent = email("STOP", sender="ana.work@example.net", extra="In-Reply-To: <other@x>\r\n")
        sent = sent.replace(b"To: replies@org.test", f"To: {reply_to}".encode())
    else:  # the plain address (a client that ignores Reply-To's token, say)
        extra = f"In-Reply-To: {ours['Message-ID']}\r\n"
        sent = email("STOP", sender="ana.work@example.net", extra=extra)
    await mail_in(mail_app, dovecot, sent)
    (reply,) = await replies(mail_app)
    assert (reply.expert_id, reply.intent) == (ana.id, "stop")
    async with mail_app.sessions() as session:
        expert = await session.get(Expert, ana.id)
        assert expert is not None
        await session.refresh(expert, ["contact_points"])
        (point,) = [p for p in expert.contact_points if p.channel is Channel.EMAIL]
    assert point.opted_out_at is not None
    # The confirmation goes to the address we hold, never to the one that wrote.
    assert [d.rcpt_tos for d in smtp.deliveries()] == [(ANA,)]


async def _record_sent(app: App, expert: Expert, message_id: str) -> None:
    now = app.clock.now()
    async with app.sessions.begin() as session:
        session.add(
            Message(
                expert_id=expert.id,
                purpose=Purpose.PASTORAL,
                idempotency_key="pastoral:1",
                due_at=now,
                next_attempt_at=now,
                status=MessageStatus.SENT,
                channel=Channel.EMAIL,
                provider_id=message_id,
                sent_at=now,
                created_at=now,
                updated_at=now,
            )
        )


async def test_a_stranger_is_kept_for_staff_and_never_answered(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    await mail_in(mail_app, dovecot, email("Buy cheap watches", sender="spam@example.com"))
    (reply,) = await replies(mail_app)
    assert (reply.expert_id, reply.needs_person, reply.auto_answer) == (None, True, None)
    assert smtp.deliveries() == []


async def test_a_worrying_stranger_gets_the_support_lines_and_nothing_else(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    await mail_in(
        mail_app, dovecot, email("I feel hopeless, please help", sender="someone@example.com")
    )
    (reply,) = await replies(mail_app)
    assert (reply.expert_id, reply.urgent) == (None, True)
    (lines,) = smtp.deliveries()
    assert lines.rcpt_tos == ("someone@example.com",)
    text = _text(lines.message)
    assert "this address doesn't recognise you" in text and "Sam" not in text


FROM = b"From: ana@example.org\r\n"
MALFORMED = {
    "no sender": b"To: replies@org.test\r\nSubject: hi\r\n\r\nHello, it's me",
    "broken MIME": FROM + b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nHello",
    "unknown charset": FROM + b"Content-Type: text/plain; charset=x-klingon\r\n\r\nHello caf\xe9",
    "html only": FROM + b"Content-Type: text/html\r\n\r\n<p>Hello <b>there</b></p>",
    "huge body": FROM + b"\r\nHello " + b"word " * 600_000,
}


@pytest.mark.parametrize("kind", list(MALFORMED))
async def test_malformed_mail_is_kept_for_a_person_and_nothing_crashes(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
    kind: str,
) -> None:
    server, user = dovecot
    await add_ana(mail_app)
    result = await mail_in(mail_app, dovecot, MALFORMED[kind])
    assert (result.heard, result.failed) == (1, 0)
    (reply,) = await replies(mail_app)
    assert "Hello" in reply.body
    assert reply.needs_person
    if kind != "html only":
        assert "could not be read properly" in reply.body
        assert "still in the replies mailbox" in reply.body
    assert server.count(user) == 1  # the original is kept


async def test_attachments_are_not_kept_and_the_person_is_told(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    server, user = dovecot
    await add_ana(mail_app)
    body = (
        "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n"
        "Here is the form\r\n--zz\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename=form.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n--zz--\r\n"
    )
    server.append(
        user,
        email("", extra=body.split("\r\n\r\n", 1)[0] + "\r\n").replace(
            b"\r\n\r\n", b"\r\n\r\n" + body.split("\r\n\r\n", 1)[1].encode(), 1
        ),
    )
    await poller(mail_app).poll_once()
    (reply,) = await replies(mail_app)
    assert reply.body.startswith("Here is the form")
    assert "They attached a file, which Linkline does not keep" in reply.body
    (answer,) = smtp.deliveries()
    assert "not seen what you attached" in _text(answer.message)


async def test_an_out_of_office_is_kept_but_never_answered(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    await add_ana(mail_app)
    await mail_in(
        mail_app,
        dovecot,
        email("I am away until Monday.", extra="Auto-Submitted: auto-replied\r\n"),
    )
    (reply,) = await replies(mail_app)
    assert reply.auto_answer is None and reply.needs_person
    assert smtp.deliveries() == []


@pytest.mark.db_contract
async def test_two_readers_at_once_make_one_reply(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    """The worker and `linkline mail poll` reading the same new message together: the
    unique reference lets one store it; the other finds the repeat."""
    import asyncio

    server, user = dovecot
    await add_ana(mail_app)
    server.append(user, email("Yes please, I can come."))
    first, second = await asyncio.gather(poller(mail_app).poll_once(), poller(mail_app).poll_once())
    assert first.heard + second.heard == 1
    assert len(await replies(mail_app)) == 1
    async with mail_app.sessions() as session:
        open_tasks = await session.scalar(
            select(func.count(Task.id)).where(Task.status == TaskStatus.OPEN)
        )
    assert open_tasks == 1
    assert len(smtp.deliveries()) <= 1


@pytest.mark.db_contract
async def test_one_worker_at_a_time_reads_the_mailbox_and_the_others_skip_that_minute(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
) -> None:
    """Several PostgreSQL workers run the same every-minute job: while one is reading the
    mailbox the others leave it alone, and the next minute any of them may read it. SQLite
    runs a single worker, so its one worker always reads."""
    server, user = dovecot
    await add_ana(mail_app)
    server.append(user, email("Can you call me?"))
    async with job_turn(mail_app.engine, "read_mailbox") as first:
        assert first
        await poller(mail_app).read_mailbox()  # a second worker, the same minute
        during = len(await replies(mail_app))
    if mail_app.engine.dialect.name == "postgresql":
        assert during == 0 and server.unseen(user) == 1
        await poller(mail_app).read_mailbox()  # the turn is free again
    assert len(await replies(mail_app)) == 1
    assert server.unseen(user) == 0


async def test_a_message_is_marked_read_only_once_its_reply_is_stored(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
) -> None:
    """The database refusing (here: the replies table is missing) leaves the email unseen;
    the next pass, once the database is back, hears it."""
    server, user = dovecot
    await add_ana(mail_app)
    server.append(user, email("Can you call me?"))
    async with mail_app.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE reply RENAME TO reply_away")
    failed = await poller(mail_app).poll_once()
    assert (failed.heard, failed.failed) == (0, 1)
    assert server.unseen(user) == 1
    async with mail_app.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE reply_away RENAME TO reply")
    again = await poller(mail_app).poll_once()
    assert (again.heard, again.failed) == (1, 0)
    assert server.unseen(user) == 0


async def test_the_worker_reads_the_mailbox_every_minute(mail_app: App) -> None:
    jobs = {job.__name__: every for job, every in mail_app.worker().jobs}
    assert jobs["read_mailbox"] == 60.0


async def test_without_a_mailbox_the_worker_reads_none(app: App) -> None:
    assert app.mail_poll() is None
    assert "read_mailbox" not in {job.__name__ for job, _ in app.worker().jobs}


async def test_yes_by_email_answers_the_invitation_the_email_asked_about(
    mail_app: App,
    dovecot: tuple[Dovecot, str],
    smtp: FakeSMTPServer,
    clock: SimulatedClock,
) -> None:
    """End to end: the pre-brief goes by email through the dispatcher, with a Reply-To
    token; Ana's "yes" (her mail program quoting our question under it) is her answer."""
    ana = await add_ana(mail_app)
    async with mail_app.sessions.begin() as session:
        await add_engagement(mail_app, session, experts=[ana])
    pre_brief = (await outbox(mail_app, purpose=Purpose.PRE_BRIEF, expert_id=ana.id))[0]
    clock.set(pre_brief.due_at)
    await mail_app.dispatcher().run_until_idle()
    (sent,) = smtp.deliveries()
    assert sent.message["Reply-To"].startswith("replies+")
    quoted = "\r\n".join(f"> {line}" for line in _text(sent.message).splitlines())
    reply = email(
        f"Yes, I'll be there.\r\n\r\nOn Mon, Sam <{sent.message['Reply-To']}> wrote:\r\n{quoted}",
        extra=f"In-Reply-To: {sent.message['Message-ID']}\r\n",
    )
    result = await mail_in(mail_app, dovecot, reply)
    assert (result.heard, result.answered) == (1, 1)
    (stored,) = await replies(mail_app)
    assert (stored.intent, stored.in_reply_to_id) == ("yes", pre_brief.id)
    async with mail_app.sessions() as session:
        answer = await session.scalar(
            select(Invitation.answer).where(Invitation.expert_id == ana.id)
        )
    assert answer is InvitationAnswer.YES
    thanks = smtp.deliveries()[-1]
    assert thanks.rcpt_tos == (ANA,) and "Ana" in _text(thanks.message)
    # The answer asks for replies with the same token, so the conversation stays together.
    assert thanks.message["Reply-To"] == sent.message["Reply-To"]
