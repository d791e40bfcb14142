"""One contract, run against every channel adapter and the recording fake."""

from __future__ import annotations

from datetime import timedelta

import pytest

from channels.base import OutgoingMessage, PermanentError, TransientError
from tests.integration.channels.harness import CONTRACT_NOW, Harness

NOW = CONTRACT_NOW


def _message(harness: Harness, key: str = "eng1:exp1:pre_brief", body: str = "") -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        channel=harness.channel.kind,
        to=harness.address(),
        body=body or "Hi Ana, it's Sam. Just a note that Tuesday is coming up.",
        subject="A note from Sam",
        recipient_name="Ana",
        sender_name="Sam",
        deliver_before=NOW + timedelta(hours=8),
    )


async def test_a_sent_message_reaches_the_provider_once_with_a_receipt(harness: Harness) -> None:
    receipt = await harness.channel.send(_message(harness))
    assert receipt.provider_id
    (got,) = harness.received()
    assert "Just a note that Tuesday is coming up" in got.text
    assert _plain(harness.address()) in _plain(got.to)  # exactly one person, the right one


def _plain(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum() or c in "@.")


async def test_two_messages_get_two_different_receipts(harness: Harness) -> None:
    one = await harness.channel.send(_message(harness, "k1"))
    two = await harness.channel.send(_message(harness, "k2", "Hi Ana, a reminder."))
    assert one.provider_id != two.provider_id
    assert len(harness.received()) == 2


async def test_a_passing_fault_is_a_transient_error(harness: Harness) -> None:
    harness.fail_next("transient")
    with pytest.raises(TransientError):
        await harness.channel.send(_message(harness))


async def test_a_lasting_fault_is_a_permanent_error(harness: Harness) -> None:
    harness.fail_next("permanent")
    with pytest.raises(PermanentError) as caught:
        await harness.channel.send(_message(harness))
    assert caught.value.opt_out_reason is None


async def test_an_opt_out_says_so(harness: Harness) -> None:
    harness.fail_next("opt_out")
    with pytest.raises(PermanentError) as caught:
        await harness.channel.send(_message(harness))
    assert caught.value.opt_out_reason


async def test_arrival_is_never_before_sending(harness: Harness) -> None:
    assert harness.channel.earliest_arrival(NOW) >= NOW


async def test_lookup_finds_what_was_sent_when_the_provider_allows(harness: Harness) -> None:
    receipt = await harness.channel.send(_message(harness, "lookup-me"))
    found = await harness.channel.lookup("lookup-me")
    if harness.channel.lookup_is_conclusive:
        assert found is not None and found.provider_id == receipt.provider_id
        assert await harness.channel.lookup("never-sent") is None


async def test_closing_twice_is_harmless(harness: Harness) -> None:
    await harness.channel.aclose()
    await harness.channel.aclose()
