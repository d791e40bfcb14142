"""The email channel, judged by what a real SMTP server on loopback received."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from channels.base import (
    CalendarEvent,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    TransientError,
)
from channels.calendar_invite import build_ics
from channels.mail import AUTH_HINT, STARTTLS_HINT, EmailChannel, EmailConfig
from store.enums import Channel
from tests.fakes.smtp import Delivery, FakeSMTPServer, free_port

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
TO = "ana@example.net"


def _channel(port: int, username: str | None = None, password: str | None = None) -> EmailChannel:
    config = EmailConfig(
        host="127.0.0.1",
        port=port,
        from_address="sam@linkline.test",
        username=username,
        password=password,
        start_tls=False,
        timeout=5,
    )
    return EmailChannel(config, clock=lambda: NOW)


@pytest.fixture
def server() -> Iterator[FakeSMTPServer]:
    fake = FakeSMTPServer().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def channel(server: FakeSMTPServer) -> EmailChannel:
    return _channel(server.port)


def _message(key: str = "eng1:exp1:pre_brief", **changes: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "channel": Channel.EMAIL,
        "to": TO,
        "body": "Hi Ana,\n\nTuesday is coming up.\nSee you there.\n\nSam",
        "subject": "A note from Sam",
        "recipient_name": "Ana",
        "sender_name": "Sam",
        "deliver_before": NOW + timedelta(hours=8),
        **changes,
    }
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def _event(method: str = "REQUEST", sequence: int = 0, **changes: object) -> CalendarEvent:
    fields: dict[str, object] = {
        "uid": "linkline-eng1-exp1",
        "sequence": sequence,
        "method": method,
        "summary": "Meeting with Sam",
        "starts_at": datetime(2026, 6, 2, 9, 30, tzinfo=LONDON),  # 08:30 UTC in summer time
        "ends_at": datetime(2026, 6, 2, 11, 0, tzinfo=LONDON),
        "organizer_name": "Sam Taylor",
        "organizer_email": "sam@example.org",
        **changes,
    }
    return CalendarEvent(**fields)  # type: ignore[arg-type]


async def _send_one(channel: EmailChannel, server: FakeSMTPServer, **changes: object) -> Delivery:
    await channel.send(_message(**changes))
    (delivery,) = server.deliveries()
    return delivery


def _calendar_part(email: EmailMessage) -> EmailMessage:
    (part,) = (p for p in email.walk() if p.get_content_type() == "text/calendar")
    assert isinstance(part, EmailMessage)
    return part


def _parsed_event(email: EmailMessage) -> tuple[str, Calendar, object]:
    part = _calendar_part(email)
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    return str(part.get_param("method")), calendar, event


async def test_one_recipient_from_the_link_worker_with_the_subject_as_given(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    got = await _send_one(channel, server)
    assert got.rcpt_tos == (TO,)
    assert got.message["To"] == TO
    assert got.message["Cc"] is None and got.message["Bcc"] is None
    assert got.message["From"] == "Sam <sam@linkline.test>"
    assert got.message["Subject"] == "A note from Sam"
    assert got.mail_from == "sam@linkline.test"


async def test_message_id_is_stable_per_key_and_never_threads(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    first = await channel.send(_message("k1"))
    again = await channel.send(_message("k1"))
    other = await channel.send(_message("k2"))
    ids = [d.message["Message-ID"] for d in server.deliveries()]
    assert ids == [first.provider_id, again.provider_id, other.provider_id]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].endswith("@linkline.invalid>")
    for delivery in server.deliveries():
        assert delivery.message["In-Reply-To"] is None
        assert delivery.message["References"] is None


async def test_plain_text_and_an_accessible_escaped_html_copy(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    body = "Hi Ana,\n\n<script>alert(1)</script> & more\n\nSam"
    got = await _send_one(channel, server, body=body)
    plain = got.message.get_body(preferencelist=("plain",))
    html = got.message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").strip() == body
    markup = html.get_content()
    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in markup
    assert '<html lang="en">' in markup
    assert "<title>A note from Sam</title>" in markup
    assert markup.count("<p>") == 3
    for unwanted in ("<img", "<a ", "http", "<link", "<script"):
        assert unwanted not in markup


async def test_a_given_html_body_is_used_as_is(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    got = await _send_one(channel, server, html_body="<p>Made by hand</p>")
    html = got.message.get_body(preferencelist=("html",))
    assert html is not None and html.get_content().strip() == "<p>Made by hand</p>"


async def test_a_request_carries_a_matching_utc_invitation(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    got = await _send_one(channel, server, calendar=_event())
    method, calendar, event = _parsed_event(got.message)
    assert method == "REQUEST" == str(calendar["METHOD"])
    assert str(event["UID"]) == "linkline-eng1-exp1"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    starts = event["DTSTART"].dt
    assert starts == datetime(2026, 6, 2, 8, 30, tzinfo=UTC) and starts.utcoffset() == timedelta(0)
    assert b"DTSTART:20260602T083000Z" in calendar.to_ical()
    assert not calendar.walk("VTIMEZONE")
    assert str(event["ORGANIZER"]) == "mailto:sam@example.org"
    assert event["ORGANIZER"].params["CN"] == "Sam Taylor"
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{TO}"
    assert attendee.params["CN"] == "Ana" and attendee.params["RSVP"] == "FALSE"
    assert "DESCRIPTION" not in event


async def test_the_invitation_sits_beside_the_text_and_as_an_attachment(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    got = await _send_one(channel, server, calendar=_event())
    structure = [p.get_content_type() for p in got.message.walk()]
    assert structure == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    (attachment,) = got.message.iter_attachments()
    assert attachment.get_filename() == "invite.ics"
    ics = _calendar_part(got.message).get_payload(decode=True)
    assert attachment.get_content() == ics
    assert ics.count(b"\r\n") == ics.count(b"\n")  # RFC 5545 line ends survive the trip
    part = _calendar_part(got.message)
    assert (part.get_param("method"), part.get_content_charset()) == ("REQUEST", "utf-8")


async def test_a_cancel_keeps_the_uid_with_a_higher_sequence(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    await channel.send(_message("invite", calendar=_event()))
    await channel.send(_message("cancel", calendar=_event("CANCEL", sequence=1)))
    (_, _, request), (method, calendar, cancel) = (
        _parsed_event(d.message) for d in server.deliveries()
    )
    assert method == "CANCEL" == str(calendar["METHOD"])
    assert str(cancel["UID"]) == str(request["UID"])
    assert int(cancel["SEQUENCE"]) > int(request["SEQUENCE"])
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert str(cancel["ATTENDEE"]) == f"mailto:{TO}"


async def test_a_discreet_summary_passes_through_unchanged(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    got = await _send_one(channel, server, calendar=_event(summary="Meeting with Sam"))
    _, _, event = _parsed_event(got.message)
    assert str(event["SUMMARY"]) == "Meeting with Sam"
    assert "LOCATION" not in event


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
async def test_try_later_is_transient(
    channel: EmailChannel, server: FakeSMTPServer, stage: str
) -> None:
    server.refuse_next(stage, "451 4.3.0 try later")  # type: ignore[arg-type]
    with pytest.raises(TransientError) as caught:
        await channel.send(_message())
    assert caught.value.code == "451"
    assert server.deliveries() == []


async def test_no_such_user_is_permanent_and_keeps_the_address_out_of_the_detail(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    server.refuse_next("RCPT", f"550 5.1.1 <{TO}>: Recipient address rejected")
    with pytest.raises(PermanentError) as caught:
        await channel.send(_message())
    assert caught.value.opt_out_reason is None
    assert caught.value.code == "550"
    assert "5.1.1" in caught.value.detail and "ana" not in caught.value.detail


@pytest.mark.parametrize("words", ["has unsubscribed", "asked not to receive"])
async def test_a_refusal_on_the_person_s_behalf_is_an_opt_out(
    channel: EmailChannel, server: FakeSMTPServer, words: str
) -> None:
    server.refuse_next("RCPT", f"550 5.7.1 recipient {words}")
    with pytest.raises(PermanentError) as caught:
        await channel.send(_message())
    assert caught.value.opt_out_reason == "their mail system refuses our messages"


async def test_a_spam_list_block_of_our_server_is_not_the_person_s_opt_out(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    server.refuse_next("RCPT", "550 5.7.1 client host blocked using a spam list")
    with pytest.raises(PermanentError) as caught:
        await channel.send(_message())
    assert caught.value.opt_out_reason is None


async def test_nobody_listening_is_transient() -> None:
    with pytest.raises(TransientError) as caught:
        await _channel(free_port()).send(_message())
    assert not isinstance(caught.value, OutcomeUnknown)


async def test_a_connection_dropped_after_the_message_is_unknown_not_retried(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    """The server took it and the line died before its 250: a resend could be a duplicate."""
    server.drop_after_next_data()
    with pytest.raises(OutcomeUnknown) as caught:
        await channel.send(_message())
    assert not isinstance(caught.value, TransientError | PermanentError)
    assert len(server.deliveries()) == 1
    assert TO not in caught.value.detail


def test_what_a_broken_connection_means_depends_on_when() -> None:
    import aiosmtplib

    from channels.mail import connect_error, smtp_error

    dropped = aiosmtplib.SMTPServerDisconnected("Connection lost")
    assert isinstance(smtp_error(dropped), OutcomeUnknown)
    assert isinstance(smtp_error(ConnectionResetError()), OutcomeUnknown)
    assert isinstance(smtp_error(aiosmtplib.SMTPConnectError("refused")), TransientError)
    assert isinstance(smtp_error(aiosmtplib.SMTPConnectTimeoutError("slow")), TransientError)
    # Before the message left (greeting, STARTTLS, login), nothing can have been sent.
    for before in (dropped, ConnectionResetError(), aiosmtplib.SMTPReadTimeoutError("slow")):
        error = connect_error(before)
        assert isinstance(error, TransientError) and not isinstance(error, OutcomeUnknown)


async def test_starttls_is_required_unless_switched_off(server: FakeSMTPServer) -> None:
    """The fake offers no STARTTLS, like a downgraded connection: nothing goes in clear."""
    config = EmailConfig(host="127.0.0.1", port=server.port, from_address="sam@linkline.test")
    assert config.start_tls is True
    with pytest.raises(TransientError) as caught:
        await EmailChannel(config, clock=lambda: NOW).send(_message())
    assert caught.value.detail == STARTTLS_HINT
    assert server.deliveries() == []
    implicit = EmailConfig(host="h", port=465, from_address="a@b.test", use_tls=True)
    assert implicit.start_tls is False


async def test_an_address_the_server_cannot_take_is_permanent() -> None:
    """A non-ASCII address needs SMTPUTF8; without it the same mail will never go."""
    server = FakeSMTPServer(smtputf8=False).start()
    try:
        with pytest.raises(PermanentError) as caught:
            await _channel(server.port).send(_message(to="anä@example.net"))
        assert server.deliveries() == []
    finally:
        server.stop()
    assert caught.value.code == "not_supported"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_a_bad_login_is_transient_and_says_what_to_fix() -> None:
    server = FakeSMTPServer(credentials=("linkline", "right")).start()
    try:
        wrong = _channel(server.port, username="linkline", password="wrong")
        with pytest.raises(TransientError) as caught:
            await wrong.send(_message())
        assert caught.value.detail == AUTH_HINT
        assert server.deliveries() == []
        await _channel(server.port, username="linkline", password="right").send(_message())
        assert len(server.deliveries()) == 1
    finally:
        server.stop()


@pytest.mark.parametrize(
    "to", ["ana@example.net, bo@example.net", "ana@example.net; bo@example.net", "a@x.net b@y.net"]
)
async def test_two_addresses_are_refused_without_contacting_the_server(to: str) -> None:
    # Nothing listens on this port: reaching for the server would be a TransientError.
    with pytest.raises(PermanentError):
        await _channel(free_port()).send(_message(to=to))


async def test_no_subject_is_refused(channel: EmailChannel, server: FakeSMTPServer) -> None:
    with pytest.raises(PermanentError, match="no subject"):
        await channel.send(_message(subject=None))
    assert server.deliveries() == []


async def test_past_the_safe_hours_nothing_is_sent(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    with pytest.raises(TransientError):
        await channel.send(_message(deliver_before=NOW - timedelta(minutes=1)))
    assert server.deliveries() == []


async def test_a_line_break_cannot_add_a_header(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    got = await _send_one(channel, server, subject="A note\r\nBcc: eve@example.com")
    assert got.message["Subject"] == "A note Bcc: eve@example.com"
    assert got.message["Bcc"] is None and got.rcpt_tos == (TO,)


async def test_the_password_never_shows_in_the_config_repr() -> None:
    config = EmailConfig(host="h", from_address="a@b.test", password="hunter2")
    assert "hunter2" not in repr(config)


def test_naive_calendar_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_ics(_event(starts_at=datetime(2026, 6, 2, 9, 30)), TO, "Ana", NOW)


def test_a_timeout_after_handing_over_is_unknown_not_retried() -> None:
    from channels.base import OutcomeUnknown
    from channels.mail import smtp_error

    assert isinstance(smtp_error(TimeoutError()), OutcomeUnknown)


async def test_a_statement_goes_with_the_email_as_a_pdf_letter(
    channel: EmailChannel, server: FakeSMTPServer
) -> None:
    letter = "Dear Ana,\n\nTotal for 2026: £31.40.\n\nWith thanks,\nSam"
    got = await _send_one(channel, server, attach_letter=letter)
    (attachment,) = got.message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "letter.pdf"  # says nothing about what it is
    assert attachment.get_content().startswith(b"%PDF")
