"""Dry-run specifics beyond the shared contract."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from channels.base import Button, OutgoingMessage
from channels.dryrun import DryRunChannel
from store.enums import Channel


def _message(body: str) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key="eng1:exp1:reminder", channel=Channel.SMS, to="+447123456789", body=body
    )


async def test_a_repeat_send_returns_the_first_receipt_and_keeps_the_first_file(
    tmp_path: Path,
) -> None:
    """A retry after a crash must settle quietly, like a live channel's idempotent resend."""
    channel = DryRunChannel(Channel.SMS, tmp_path)
    first = await channel.send(_message("Hi Ana, it's Sam."))
    again = await channel.send(_message("A different body, must not replace the first."))
    assert again == first
    (written,) = list(tmp_path.iterdir())  # noqa: ASYNC240 - a test reading a temp folder
    assert "Hi Ana, it's Sam." in written.read_text()
    assert await channel.lookup("eng1:exp1:reminder") == first


async def test_a_write_cut_short_leaves_no_file_that_looks_sent(tmp_path: Path) -> None:
    """The file appears only once complete, so lookup() after a crash never sees half."""
    channel = DryRunChannel(Channel.SMS, tmp_path)
    with (
        mock.patch("channels.dryrun.os.fdopen", side_effect=OSError("disk full")),
        pytest.raises(OSError, match="disk full"),
    ):
        await channel.send(_message("Hi Ana, it's Sam."))
    assert await channel.lookup("eng1:exp1:reminder") is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # noqa: ASYNC240 - a temp folder


async def test_a_dry_run_telegram_file_shows_the_buttons_the_person_would_see(
    tmp_path: Path,
) -> None:
    channel = DryRunChannel(Channel.TELEGRAM, tmp_path)
    message = OutgoingMessage(
        idempotency_key="eng1:exp1:check_in",
        channel=Channel.TELEGRAM,
        to="5550002",
        body="How are you doing?",
        buttons=(Button("1", "a:1:1"), Button("Pass", "a:1:pass")),
    )
    await channel.send(message)
    (written,) = list(tmp_path.iterdir())  # noqa: ASYNC240 - a test reading a temp folder
    assert "Buttons: 1 | Pass" in written.read_text()
