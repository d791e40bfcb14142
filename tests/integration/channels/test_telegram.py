"""Telegram behaviours beyond the shared contract: pacing, error meanings, privacy."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from channels.base import (
    Button,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    TransientError,
)
from channels.telegram import TelegramChannel, TelegramConfig
from channels.telegram_errors import TOKEN_HINT
from store.enums import Channel
from tests.fakes.telegram import FakeTelegram

CHAT = "987654321"
OTHER_CHAT = "987654322"
SECRET_TEXT = "Hi Ana, Tuesday's session about the hospital is confirmed."

MakeChannel = Callable[..., TelegramChannel]

# PTB 22 warns about its own RetryAfter's int/timedelta switch when it builds the error.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(strict_spacing=True) as running:
        yield running


@pytest.fixture
async def make_channel(fake: FakeTelegram) -> AsyncIterator[MakeChannel]:
    made: list[TelegramChannel] = []

    def build(token: str | None = None, per_chat_interval: float = 1.0) -> TelegramChannel:
        config = TelegramConfig(
            token or fake.token, base_url=fake.url + "/bot", per_chat_interval=per_chat_interval
        )
        made.append(TelegramChannel(config))
        return made[-1]

    yield build
    for channel in made:
        await channel.aclose()


def _message(
    to: str = CHAT, body: str = SECRET_TEXT, deliver_before: datetime | None = None
) -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=f"eng1:{to}:{body[:8]}",
        channel=Channel.TELEGRAM,
        to=to,
        body=body,
        deliver_before=deliver_before or datetime.now(UTC) + timedelta(hours=1),
    )


async def test_two_messages_to_one_chat_arrive_at_least_a_second_apart(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    channel = make_channel(per_chat_interval=1.0)
    one, two = await asyncio.gather(
        channel.send(_message(body="first")), channel.send(_message(body="second"))
    )
    first, second = fake.arrivals(CHAT)
    assert second - first >= 1.0
    assert fake.flood_rejections == 0  # Telegram never had to push back
    assert one.provider_id != two.provider_id


async def test_different_chats_do_not_wait_for_each_other(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    channel = make_channel(per_chat_interval=1.0)
    await channel.send(_message(CHAT, "warm up"))  # CHAT now has to wait a second
    started = time.monotonic()
    await channel.send(_message(OTHER_CHAT, "not held back"))
    assert time.monotonic() - started < 0.5
    assert [s.text for s in fake.received_by(OTHER_CHAT)] == ["not held back"]


async def test_flood_control_is_transient_with_telegrams_delay(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    fake.fail_next("flood", retry_after=7)
    with pytest.raises(TransientError) as caught:
        await make_channel().send(_message())
    assert caught.value.retry_after == timedelta(seconds=7)
    assert fake.ledger == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [("blocked", "blocked the bot on Telegram"), ("deactivated", "closed their Telegram account")],
)
async def test_a_person_who_said_no_is_opted_out(
    fake: FakeTelegram, make_channel: MakeChannel, failure: str, reason: str
) -> None:
    fake.fail_next(failure)  # type: ignore[arg-type]
    with pytest.raises(PermanentError) as caught:
        await make_channel().send(_message())
    assert caught.value.opt_out_reason == reason


async def test_an_unknown_chat_is_permanent_but_not_an_opt_out(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    fake.fail_next("chat_not_found")
    with pytest.raises(PermanentError) as caught:
        await make_channel().send(_message())
    assert caught.value.opt_out_reason is None
    assert caught.value.code == "chat_not_found"


async def test_a_refused_token_waits_with_a_hint(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    wrong = "999:not-the-token"
    with pytest.raises(TransientError) as caught:
        await make_channel(token=wrong).send(_message())
    assert caught.value.detail == TOKEN_HINT
    assert caught.value.__cause__ is None  # PTB's message quotes the token
    assert "sendMessage" not in fake.calls and fake.ledger == []


async def test_a_telegram_outage_is_transient(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    fake.fail_next("unavailable")
    with pytest.raises(TransientError) as caught:
        await make_channel().send(_message())
    assert not isinstance(caught.value, OutcomeUnknown)


@pytest.mark.parametrize("failure", ["server", "bad_gateway", "gateway_timeout"])
async def test_a_server_error_while_sending_is_unknown_not_retried(
    fake: FakeTelegram, make_channel: MakeChannel, failure: str
) -> None:
    """A 500, 502 or 504 may come after Telegram delivered: a retry could be a duplicate."""
    fake.fail_next(failure)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown) as caught:
        await make_channel().send(_message())
    assert not isinstance(caught.value, TransientError | PermanentError)
    assert CHAT not in caught.value.detail and "Ana" not in caught.value.detail


@pytest.mark.parametrize("failure", ["server", "bad_gateway", "broken_json"])
async def test_a_failed_get_me_is_transient_because_nothing_was_sent(
    fake: FakeTelegram, make_channel: MakeChannel, failure: str
) -> None:
    fake.fail_next_get_me(failure)  # type: ignore[arg-type]
    channel = make_channel(per_chat_interval=0.0)
    with pytest.raises(TransientError) as caught:
        await channel.send(_message(body="first try"))
    assert not isinstance(caught.value, OutcomeUnknown)
    assert "sendMessage" not in fake.calls and fake.ledger == []
    await channel.send(_message(body="second try"))  # getMe is tried again, then it sends
    assert fake.calls.count("getMe") == 2
    assert [s.text for s in fake.ledger] == ["second try"]


async def test_a_slow_get_me_cannot_push_a_message_past_safe_hours(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    """The safe-hours check runs after getMe, which can take as long as its timeouts."""
    from channels.telegram import TelegramChannel as Channel

    channel = make_channel(per_chat_interval=0.0)
    deadline = datetime.now(UTC) + timedelta(seconds=0.3)
    original = Channel._ready_bot

    async def slow_ready(self: TelegramChannel) -> object:
        await asyncio.sleep(0.5)
        return await original(self)

    channel._ready_bot = slow_ready.__get__(channel)  # type: ignore[method-assign]
    with pytest.raises(TransientError) as caught:
        await channel.send(_message(deliver_before=deadline))
    assert caught.value.code == "too_late"
    assert "sendMessage" not in fake.calls


@pytest.mark.parametrize("reply", ["true", "null", "broken_json"])
async def test_an_ok_without_a_message_is_unknown(
    fake: FakeTelegram, make_channel: MakeChannel, reply: str
) -> None:
    """Telegram took the message (it is in the ledger) but its answer is not a Message."""
    fake.odd_reply_next(reply)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknown) as caught:
        await make_channel().send(_message())
    assert not isinstance(caught.value, TransientError | PermanentError)
    assert len(fake.ledger) == 1


async def test_an_unreadable_reply_never_logs_the_chat_the_text_or_the_name(
    fake: FakeTelegram, make_channel: MakeChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.odd_reply_next("broken_json")
    with pytest.raises(OutcomeUnknown) as caught:
        await make_channel().send(_message())
    logged = "\n".join(
        [r.getMessage() for r in caplog.records] + [caplog.text] + [caught.value.detail]
    )
    assert "not JSON" in logged  # the library did report it, without the content
    for secret in (CHAT, SECRET_TEXT, "Ana", "Expert", fake.token):
        assert secret not in logged


async def test_nothing_is_sent_once_safe_hours_have_ended(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    late = _message(deliver_before=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(TransientError):
        await make_channel().send(late)
    assert "sendMessage" not in fake.calls


async def test_safe_hours_ending_while_waiting_for_a_turn_stops_the_send(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    channel = make_channel(per_chat_interval=2.0)
    await channel.send(_message(to=OTHER_CHAT, body="warm"))  # the bot is ready: no getMe below
    # Room for the first send on a busy machine; the second's turn comes a second after.
    closes_soon = datetime.now(UTC) + timedelta(seconds=1.0)
    first, second = await asyncio.gather(
        channel.send(_message(body="in time", deliver_before=closes_soon)),
        channel.send(_message(body="too late", deliver_before=closes_soon)),
        return_exceptions=True,
    )
    assert isinstance(second, TransientError) and not isinstance(first, Exception)
    assert [s.text for s in fake.ledger] == ["warm", "in time"]


async def test_a_chat_id_that_is_not_a_number_is_permanent(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    for bad in ("@ana", "1_000", " 5550001", ""):
        with pytest.raises(PermanentError):
            await make_channel().send(_message(to=bad))
    assert fake.calls == []


async def test_text_arrives_exactly_as_written_protected_and_without_preview(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    body = "<b>not bold</b> *not star* _x_ [link](https://example.org) &amp; 🙂\nline two"
    receipt = await make_channel().send(_message(body=body))
    (sent,) = fake.ledger
    assert sent.text == body
    assert "parse_mode" not in sent.params
    assert sent.params["protect_content"] == "true"
    assert json.loads(sent.params["link_preview_options"]) == {"is_disabled": True}
    assert receipt.provider_id.startswith("tg-") and CHAT not in receipt.provider_id


async def test_logs_never_hold_the_chat_id_the_text_or_the_token(
    fake: FakeTelegram, make_channel: MakeChannel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = make_channel(per_chat_interval=0.0)
    await channel.send(_message())
    for failure in ("blocked", "chat_not_found", "flood", "unavailable", "server"):
        fake.fail_next(failure)  # type: ignore[arg-type]
        with pytest.raises((PermanentError, TransientError, OutcomeUnknown)):
            await channel.send(_message())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sendMessage" in logged  # the library did log: we see the calls, not their content
    for secret in (CHAT, SECRET_TEXT, "Ana", fake.token):
        assert secret not in logged


async def test_closing_releases_the_bot_and_a_later_send_reconnects(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    fake.strict_spacing = False
    channel = make_channel(per_chat_interval=0.0)
    await channel.send(_message(body="before"))
    await channel.aclose()
    await channel.aclose()
    await channel.send(_message(body="after"))
    assert [s.text for s in fake.ledger] == ["before", "after"]


def test_no_answer_after_sending_is_unknown_not_retried() -> None:
    """A read timeout may come after Telegram delivered: a retry could be a duplicate."""
    import httpx
    from telegram.error import NetworkError, TimedOut

    from channels.base import OutcomeUnknown, TransientError
    from channels.telegram_errors import translate as _translate

    lost = TimedOut("Timed out")
    lost.__cause__ = httpx.ReadTimeout("read")
    assert isinstance(_translate(lost, "token"), OutcomeUnknown)
    refused = NetworkError("connect failed")
    refused.__cause__ = httpx.ConnectError("refused")
    assert isinstance(_translate(refused, "token"), TransientError)
    answered = NetworkError("Service Unavailable")  # Telegram refused: nothing was sent
    assert isinstance(_translate(answered, "token"), TransientError)


async def test_quick_answers_arrive_as_one_row_of_buttons(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    answers = (Button("Yes", "ans:1:yes"), Button("No", "ans:1:no"), Button("Maybe", "ans:1:maybe"))
    await make_channel().send(replace(_message(), buttons=answers))
    assert fake.last_sent(CHAT).button_rows() == [
        [("Yes", "ans:1:yes"), ("No", "ans:1:no"), ("Maybe", "ans:1:maybe")]
    ]


async def test_a_scale_of_one_to_five_and_pass_arrives_as_two_rows_of_three(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    scale = (*(Button(str(n), f"chk:7:{n}") for n in range(1, 6)), Button("Pass", "chk:7:pass"))
    await make_channel().send(replace(_message(), buttons=scale))
    rows = fake.last_sent(CHAT).button_rows()
    assert [[label for label, _ in row] for row in rows] == [["1", "2", "3"], ["4", "5", "Pass"]]
    assert fake.last_sent(CHAT).text == SECRET_TEXT  # the words are unchanged by buttons


async def test_a_long_label_gets_a_row_of_its_own_so_it_is_not_cut_off(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    buttons = (Button("Yes, I can come", "a:y"), Button("I'd like to talk first", "a:t"))
    await make_channel().send(replace(_message(), buttons=buttons))
    assert fake.last_sent(CHAT).button_rows() == [
        [("Yes, I can come", "a:y")],
        [("I'd like to talk first", "a:t")],
    ]


async def test_a_message_without_buttons_sends_no_keyboard(
    fake: FakeTelegram, make_channel: MakeChannel
) -> None:
    await make_channel().send(_message())
    sent = fake.last_sent(CHAT)
    assert "reply_markup" not in sent.params and sent.button_rows() == []


@pytest.mark.parametrize("data", ["", "x" * 65, "é" * 33])
def test_button_data_must_fit_telegrams_64_bytes(data: str) -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Button("Yes", data)
    Button("Yes", "é" * 32)  # 64 bytes exactly is fine
