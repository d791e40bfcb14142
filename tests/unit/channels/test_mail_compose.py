"""The email's bytes, written without the email package's header registry, read back by
that package: what a person's mail program will show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

from icalendar import Calendar

from channels.base import CalendarEvent, OutgoingMessage
from channels.calendar_invite import build_ics
from channels.mail import EmailChannel, EmailConfig, dry_run_formatter
from store.enums import Channel

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def _message(**changes: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "idempotency_key": "k1",
        "channel": Channel.EMAIL,
        "to": "ana@example.net",
        "body": "Hi Zoë,\n\nÇa va? You are owed £12.50.\n\nSam",
        "subject": "A note from Zoë's link worker, who writes a rather long subject line here",
        "recipient_name": "Zoë",
        "sender_name": "Zoë, covering for Jo",
        "deliver_before": NOW + timedelta(hours=8),
        **changes,
    }
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def _channel() -> EmailChannel:
    return EmailChannel(EmailConfig(host="h", from_address="sam@linkline.test"))


def test_words_beyond_ascii_read_back_as_written() -> None:
    message = _message()
    email = _channel().build(message, message.to, NOW)
    assert email["Subject"] == message.subject
    assert email["From"].addresses[0].display_name == "Zoë, covering for Jo"
    assert email["From"].addresses[0].addr_spec == "sam@linkline.test"
    plain = email.get_body(("plain",))
    # SMTP carries CRLF line ends, as every mail program reads them.
    assert plain is not None and plain.get_content().replace("\r\n", "\n").strip() == message.body
    raw = _channel().compose(message, message.to, NOW).raw
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")


def test_long_lines_are_encoded_and_come_back_whole() -> None:
    body = "word " * 60 + "\n\n" + "é" * 200
    message = _message(body=body)
    email = _channel().build(message, message.to, NOW)
    plain = email.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n").strip() == body
    raw = _channel().compose(message, message.to, NOW).raw
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_a_non_ascii_address_is_marked_for_smtputf8() -> None:
    composed = _channel().compose(_message(to="anä@example.net"), "anä@example.net", NOW)
    assert composed.utf8
    assert not _channel().compose(_message(), "ana@example.net", NOW).utf8


def test_the_invitation_reads_as_icalendar_writes_it() -> None:
    event = CalendarEvent(
        uid="linkline-eng1-exp1",
        sequence=2,
        method="CANCEL",
        summary="Meeting, with; Sam\\",
        starts_at=datetime(2026, 6, 2, 9, 30, tzinfo=LONDON),
        ends_at=datetime(2026, 6, 2, 11, 0, tzinfo=LONDON),
        location="Hall 2, 8 Sample Road",
        organizer_name="Sam O'Brien",
        organizer_email="sam@example.org",
    )
    ics = build_ics(event, "ana@example.net", "Zoë " * 20, NOW)
    (vevent,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Meeting, with; Sam\\"
    assert str(vevent["LOCATION"]) == "Hall 2, 8 Sample Road"
    assert vevent["ATTENDEE"].params["CN"] == "Zoë " * 20
    assert vevent["ORGANIZER"].params["CN"] == "Sam O'Brien"
    assert str(vevent["STATUS"]) == "CANCELLED" and int(vevent["SEQUENCE"]) == 2
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))


def test_a_dry_run_file_is_the_message_marked_as_not_sent() -> None:
    eml = dry_run_formatter("sam@linkline.test", lambda: NOW)(_message())
    email = BytesParser(policy=policy.default).parsebytes(eml)
    assert email["X-Linkline-Dry-Run"] == "written to a file, not sent"
    assert email["To"] == "ana@example.net"
    assert b"\r\n" not in eml
