"""`linkline mail poll` against a real Dovecot, and the settings that name the mailbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Invoke
from tests.dovecot import PASSWORD, Dovecot

PEOPLE = (
    "ref,preferred_name,link_worker,preferred_channel,email,consent_email,"
    "consent_confirmed_on,consent_confirmed_by\n"
    "EX-1,Ana,sam@example.org,email,ana@example.org,yes,2026-01-05,sam@example.org\n"
)


def test_poll_hears_each_new_email_once(
    ready: Invoke,
    dovecot: tuple[Dovecot, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server, user = dovecot
    monkeypatch.setenv("LINKLINE_IMAP_URL", f"imap://{user}:{PASSWORD}@127.0.0.1:{server.port}")
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE)
    assert ready("experts", "import", str(people)).exit_code == 0
    server.append(user, b"From: ana@example.org\r\nMessage-ID: <a@b>\r\n\r\nCALL me please")
    first = ready("mail", "poll")
    assert first.exit_code == 0, first.output
    assert "1 new reply heard" in first.output
    second = ready("mail", "poll")
    assert "0 new replies heard" in second.output
    listed = ready("replies")
    assert "Ana" in listed.output and "email" in listed.output


def test_poll_without_a_mailbox_says_what_to_set(ready: Invoke) -> None:
    result = ready("mail", "poll")
    assert result.exit_code == 1
    assert "LINKLINE_IMAP_URL" in result.output


def test_an_unreachable_mailbox_loses_nothing(
    ready: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKLINE_IMAP_URL", "imap://u:p@127.0.0.1:1/INBOX")
    result = ready("mail", "poll")
    assert result.exit_code == 1
    assert "could not reach the replies mailbox" in result.output
    assert "nothing was marked as read" in result.output
    assert ":p@" not in result.output


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"LINKLINE_IMAP_URL": "imap://u:secret@mail.example.org/INBOX"}, "without TLS"),
        (
            {
                "LINKLINE_IMAP_HOST": "mail.example.org",
                "LINKLINE_IMAP_TLS": "false",
                "LINKLINE_IMAP_USER": "u",
                "LINKLINE_IMAP_PASSWORD": "secret",
            },
            "without TLS",
        ),
        ({"LINKLINE_IMAP_HOST": "mail.example.org"}, "LINKLINE_IMAP_USER"),
        ({"LINKLINE_IMAP_URL": "pop3://u:secret@mail.example.org"}, "must look like imaps://"),
        ({"LINKLINE_IMAP_URL": "imaps://mail.example.org"}, "no user name or password"),
        ({"LINKLINE_IMAP_URL": "imaps://u:secret@mail.example.org:99999"}, "must look like"),
    ],
)
def test_a_mailbox_that_is_unsafe_or_half_set_stops_start_up(
    ready: Invoke, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], said: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ready("replies")
    assert result.exit_code == 1
    assert "Linkline cannot read email replies" in result.output and said in result.output
    assert "secret" not in result.output
