"""The replies mailbox settings: one URL or the parts, TLS unless on this machine."""

from __future__ import annotations

import pytest

from bot.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_a_url_gives_every_part_with_escapes_undone() -> None:
    parts = settings(imap_url="imaps://replies%40org.test:p%40ss@imap.org.test/Replies").mailbox()
    assert parts is not None
    assert (parts.host, parts.port, parts.user, parts.password, parts.folder, parts.tls) == (
        "imap.org.test",
        993,
        "replies@org.test",
        "p@ss",
        "Replies",
        True,
    )
    assert "p@ss" not in repr(parts)


def test_the_parts_default_to_tls_on_993_and_the_inbox() -> None:
    parts = settings(imap_host="imap.org.test", imap_user="u", imap_password="p").mailbox()
    assert parts is not None and (parts.port, parts.folder, parts.tls) == (993, "INBOX", True)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_plain_imap_is_allowed_on_this_machine_only(host: str) -> None:
    parts = settings(imap_url=f"imap://u:p@{host}:1143").mailbox()
    assert parts is not None and (parts.tls, parts.port) == (False, 1143)
    with pytest.raises(ValueError, match="without TLS"):
        settings(imap_url="imap://u:p@imap.org.test").mailbox()


def test_no_mailbox_is_no_mailbox_and_the_start_up_line_says_so() -> None:
    plain = settings()
    assert plain.mailbox() is None
    (email,) = [mode for mode in plain.channel_modes() if mode.channel.value == "email"]
    assert "email replies are not read" in email.detail
    set_up = settings(imap_url="imaps://u:secret@imap.org.test")
    (email,) = [mode for mode in set_up.channel_modes() if mode.channel.value == "email"]
    assert "replies read from imap.org.test" in email.detail and "secret" not in email.detail
