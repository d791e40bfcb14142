"""The replies mailbox against a real IMAP server (Dovecot): new messages are found, read
whole or from their start, and marked handled only when asked."""

from __future__ import annotations

import pytest

from channels.base import TransientError
from channels.mail_in import ImapConfig, ImapMailbox
from channels.mail_read import read_mail
from tests.dovecot import PASSWORD, Dovecot

REPLY = (
    b"From: Ana <ana@example.org>\r\nTo: replies@example.org\r\n"
    b"Message-ID: <one@example.org>\r\nSubject: Re: Thursday\r\n\r\nYes, see you then.\r\n"
)


def config(server: Dovecot, user: str, **overrides: object) -> ImapConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": user,
        "password": PASSWORD,
        "tls": False,
    }
    return ImapConfig(**{**values, **overrides})  # type: ignore[arg-type]


async def test_new_messages_are_read_and_stay_unseen_until_handled(
    dovecot: tuple[Dovecot, str],
) -> None:
    server, user = dovecot
    server.append(user, REPLY)
    server.append(user, REPLY.replace(b"<one@", b"<two@"), flags="\\Seen")
    async with ImapMailbox(config(server, user)) as box:
        uids = await box.new_messages()
        assert len(uids) == 1
        mail = read_mail(await box.fetch(uids[0]))
        assert (mail.sender, mail.text, mail.ref) == (
            "ana@example.org",
            "Yes, see you then.",
            "<one@example.org>",
        )
        assert server.unseen(user) == 1  # reading it did not mark it
        await box.mark_handled(uids[0])
        assert await box.new_messages() == []
    assert server.count(user) == 2  # nothing deleted or moved


async def test_a_huge_message_is_read_from_its_start(dovecot: tuple[Dovecot, str]) -> None:
    server, user = dovecot
    server.append(user, REPLY.replace(b"Yes, see you then.", b"I am here. " + b"x" * 50_000))
    async with ImapMailbox(config(server, user, max_fetch_bytes=4000)) as box:
        (uid,) = await box.new_messages()
        raw = await box.fetch(uid)
    assert raw.truncated and len(raw.data) == 4000
    mail = read_mail(raw)
    assert mail.text.startswith("I am here.") and mail.problem is not None


async def test_a_wrong_password_or_no_server_is_a_plain_transient_error(
    dovecot: tuple[Dovecot, str],
) -> None:
    server, user = dovecot
    with pytest.raises(TransientError, match="refused our login") as refused:
        async with ImapMailbox(config(server, user, password="wrong")):
            pass
    assert PASSWORD not in str(refused.value) and user not in str(refused.value)
    with pytest.raises(TransientError, match="could not reach"):
        async with ImapMailbox(config(server, user, port=1, timeout=5)):
            pass


def test_plain_imap_is_only_for_this_machine() -> None:
    with pytest.raises(ValueError, match="only for a mailbox on this machine"):
        ImapConfig(host="mail.example.org", username="u", password="p", tls=False)
