"""Outbound email names the replies mailbox, with a token that leads a reply back to it."""

from __future__ import annotations

from datetime import UTC, datetime

from channels.base import OutgoingMessage
from channels.mail import EmailChannel, EmailConfig
from channels.mail_read import RawMail, message_id_for, read_mail
from store.enums import Channel

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
NOTE = OutgoingMessage("pastoral:7", Channel.EMAIL, "ana@example.org", "Hello", subject="Hi")


def channel(**config: object) -> EmailChannel:
    return EmailChannel(
        EmailConfig(host="mail.test", from_address="linkline@org.test", **config)  # type: ignore[arg-type]
    )


def test_reply_to_carries_the_token_of_the_message_id() -> None:
    email = channel(reply_to="replies@org.test", id_key=b"k" * 32).build(NOTE, NOTE.to, NOW)
    token = str(email["Reply-To"]).removeprefix("replies+").removesuffix("@org.test")
    assert message_id_for(token) == email["Message-ID"]
    answered = read_mail(
        RawMail("1", f"From: a@b.test\r\nTo: {email['Reply-To']}\r\n\r\nok".encode())
    )
    assert answered.ours() == (email["Message-ID"],)


def test_the_message_id_is_keyed_so_a_reply_cannot_be_forged() -> None:
    one = channel(id_key=b"a" * 32).message_id(NOTE.idempotency_key)
    other = channel(id_key=b"b" * 32).message_id(NOTE.idempotency_key)
    assert one != other and one == channel(id_key=b"a" * 32).message_id(NOTE.idempotency_key)


def test_an_answer_keeps_the_token_its_reply_came_with() -> None:
    answer = OutgoingMessage(
        "reply-answer:3",
        Channel.EMAIL,
        "ana@example.org",
        "Thanks",
        subject="Re",
        metadata={"reply_token": "0" * 32},
    )
    email = channel(reply_to="replies@org.test").build(answer, answer.to, NOW)
    assert email["Reply-To"] == f"replies+{'0' * 32}@org.test"


def test_without_a_replies_mailbox_there_is_no_reply_to() -> None:
    assert channel().build(NOTE, NOTE.to, NOW)["Reply-To"] is None
